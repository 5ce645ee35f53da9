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


class ActualForm(forms.Form):
    """A period's actual as a partner reports it; `projects.results.services.period_report`
    checks the rest (rights, state, figure or text by measure)."""

    actual_value = forms.DecimalField(
        label=_("Actual"), required=False, max_digits=20, decimal_places=4
    )
    actual_comment = forms.CharField(
        label=_("Comment on the actual"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    partner = forms.TypedChoiceField(label=_("On behalf of"), coerce=int, required=False)
    # The project's version when the form was shown: a report made meanwhile is not
    # overwritten unseen (the API's If-Match).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        partners = list(partners)
        if len(partners) > 1:
            self.fields["partner"].choices = [(p.pk, str(p)) for p in partners]
            self.fields["partner"].required = True
        else:
            del self.fields["partner"]
