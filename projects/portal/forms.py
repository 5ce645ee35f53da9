from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import Status


class ProjectSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Status.choices)
        self.fields["status"].choices = [("", _("All statuses"))] + [
            (value, labels[value]) for value in statuses
        ]


class ProgressForm(forms.Form):
    note = forms.CharField(
        label=_("Progress note"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000
    )
    reported_on = forms.DateField(
        label=_("Reported on"),
        initial=timezone.localdate,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    partner = forms.TypedChoiceField(label=_("On behalf of"), coerce=int, required=False)

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        partners = list(partners)
        if len(partners) > 1:
            self.fields["partner"].choices = [(p.pk, str(p)) for p in partners]
            self.fields["partner"].required = True
        else:
            del self.fields["partner"]
