"""The dashboard's filter form as people fill it in: a date picker for each end of the
period and selects that show names (the query string still carries the codes the
changelist and the API use). Checking stays with `stats.FilterForm` / `parse_filters`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from partners.models import Partner
from projects import access
from projects.reporting import stats
from registry.models import CountryGroup, Sector


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class DashboardFilterForm(stats.FilterForm):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("all"))]
        self.fields["period_start"].label = _("period from")
        self.fields["period_start"].widget = DateInput()
        self.fields["period_end"].label = _("period until")
        self.fields["period_end"].widget = DateInput()
        self.fields["country_group"].widget = forms.Select(
            choices=everything + [(g.code, g.name) for g in CountryGroup.objects.all()]
        )
        sectors = Sector.objects.order_by("sort_order", "code")
        self.fields["sector"].widget = forms.Select(
            choices=everything
            + [(s.code, f"— {s.name}" if s.parent_id else s.name) for s in sectors]
        )
        leading = access.visible_projects(user).values("lead_unit")
        units = Partner.objects.filter(pk__in=leading)
        self.fields["lead_unit"].widget = forms.Select(
            choices=everything + sorted(((u.pk, u.name) for u in units), key=lambda c: c[1])
        )
