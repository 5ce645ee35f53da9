"""The dashboard's filter form as people fill it in: a date picker for each end of the
period, selects that show names and a searched select for the lead unit (the query
string still carries the codes the changelist and the API use). Checking stays with
`stats.FilterForm` / `parse_filters`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from projects.admin.filters import SearchSelect
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
        # Searched, not listed: listing the units that lead a project read the whole pool
        # on every request. The chosen unit is named by one query by its key.
        self.fields["lead_unit"].widget = SearchSelect("partner", user=user)
