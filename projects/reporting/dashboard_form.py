"""The dashboard's filter form as people fill it in: a date picker for each end of the
period, selects that show names and a searched select for the lead unit (the query
string still carries the codes the changelist and the API use).

The form only shows the filters. What a filter accepts and means is decided in one place,
`projects.api.filters.StatsFilter` (the stats API's and the project list's FilterSet):
the dashboard selects through it and shows its errors beside the fields here."""

from django import forms
from django.utils.translation import gettext_lazy as _

from projects.admin.filters import SearchSelect
from registry.models import CountryGroup, Sector


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


class DashboardFilterForm(forms.Form):
    # Text as given: checking is the FilterSet's, so this form never refuses a value of
    # its own (`show_errors` adds the FilterSet's).
    # The period's first names (`StatsFilter` reads them as `period_after`/`period_before`):
    # links and bookmarks of the dashboard carry them.
    period_start = forms.CharField(required=False, label=_("period from"), widget=DateInput())
    period_end = forms.CharField(required=False, label=_("period until"), widget=DateInput())
    country_group = forms.CharField(required=False, label=_("country group"))
    sector = forms.CharField(required=False, label=_("sector"))
    lead_unit = forms.CharField(required=False, label=_("lead unit"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("all"))]
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

    def show_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Puts the FilterSet's errors on the fields shown (the page names the others, of
        filters the form does not show, above it); returns them all."""
        for name, messages in errors.items():
            if name in self.fields and self.is_bound:
                for message in messages:
                    self.add_error(name, message)
        return errors
