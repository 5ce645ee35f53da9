"""Admin pages of the risk registers and warnings (staff only). Saves go through
`projects.risk.services`, as in the API."""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from simple_history.admin import SimpleHistoryAdmin

from projects import access
from projects.admin.filters import SearchFilter, search_select_media
from projects.errors import DomainError, InvalidData
from projects.models import ProjectCountry
from projects.risk import access as risk_access
from projects.risk import services
from projects.risk.models import CountryRisk, ProjectRisk, Warning
from registry.admin import AccessRightsMixin, NoDeleteMixin
from registry.counting import AdminCountingPaginator


def _form_error(error: DomainError) -> ValidationError:
    if isinstance(error, InvalidData):
        return ValidationError(
            [f"{field}: {' '.join(map(str, messages))}" for field, messages in error.errors.items()]
        )
    return ValidationError(str(error.message))


class StaffOnlyMixin(NoDeleteMixin, AccessRightsMixin):
    def has_view_permission(self, request, obj=None):
        return risk_access.sees_risk(request.user) and super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return risk_access.sees_risk(request.user) and super().has_module_permission(request)


class CountryRiskForm(forms.ModelForm):
    class Meta:
        model = CountryRisk
        fields = ("country", "category", "level", "effective_date", "source", "note")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                self.instance = services.country_risk_record(
                    actor=self.request.user, **{name: cleaned[name] for name in self.Meta.fields}
                )
            except DomainError as error:
                raise _form_error(error) from error
        return cleaned


@admin.register(CountryRisk)
class CountryRiskAdmin(StaffOnlyMixin, SimpleHistoryAdmin):
    form = CountryRiskForm
    list_display = ("country", "category", "level", "effective_date", "source", "recorded_by")
    list_filter = ("category", "level", "country")
    search_fields = ("country__iso2", "country__name_zh", "country__name_en", "source")
    autocomplete_fields = ("country",)
    date_hierarchy = "effective_date"

    def has_add_permission(self, request):
        return risk_access.can_keep_country_risks(request.user)

    def has_change_permission(self, request, obj=None):
        # Append-only: a new level is a new assessment; earlier ones stay as recorded.
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        pass  # saved by the service in the form's clean()


class ProjectRiskForm(forms.ModelForm):
    class Meta:
        model = ProjectRisk
        fields = ("project", *services.PROJECT_RISK_FIELDS)

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            data = {name: cleaned.get(name) for name in services.PROJECT_RISK_FIELDS}
            for name in ("description", "mitigation", "owner", "resolution_channel"):
                data[name] = data[name] or ""
            try:
                with_instance = {"risk": self.instance} if self.instance.pk else {}
                self.instance = services.project_risk_save(
                    actor=self.request.user, project=cleaned["project"], **with_instance, **data
                )
            except DomainError as error:
                raise _form_error(error) from error
        return cleaned


@admin.register(ProjectRisk)
class ProjectRiskAdmin(StaffOnlyMixin, SimpleHistoryAdmin):
    form = ProjectRiskForm
    list_display = ("title", "project", "kind", "category", "likelihood", "impact", "status")
    list_filter = ("kind", "category", "status", "resolution_channel")
    list_select_related = ("project",)
    search_fields = ("title", "project__code")
    raw_id_fields = ("project",)

    def get_queryset(self, request):
        visible = access.visible_projects(request.user)
        return super().get_queryset(request).filter(project__in=visible)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and risk_access.sees_risk(request.user)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or risk_access.can_keep_project_risks(request.user, obj.project)

    def get_readonly_fields(self, request, obj=None):
        return ("project",) if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        pass  # saved by the service in the form's clean()


class WarningStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("open", pgettext("risk state", "open")),
            ("dismissed", _("dismissed")),
            ("resolved", _("resolved")),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "open":
            return queryset.filter(resolved_at__isnull=True, dismissed_at__isnull=True)
        if value == "dismissed":
            return queryset.filter(resolved_at__isnull=True, dismissed_at__isnull=False)
        if value == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        raise IncorrectLookupParameters(value)


class WarningCountryFilter(SearchFilter):
    # Typed, not listed: listing the countries of projects with open warnings read the
    # warnings and country shares of the whole pool on every request.
    title = _("country")
    parameter_name = "country"
    source = "country"

    def filter_on(self, queryset, row):
        return queryset.filter(
            Exists(ProjectCountry.objects.filter(project_id=OuterRef("project_id"), country=row))
        )


class WarningUnitFilter(SearchFilter):
    title = _("lead unit")
    parameter_name = "lead_unit"
    source = "partner"

    def filter_on(self, queryset, row):
        return queryset.filter(project__lead_unit=row)


class WarningForm(forms.ModelForm):
    class Meta:
        model = Warning
        fields = ("dismiss_reason",)

    def clean(self):
        cleaned = super().clean()
        if "dismiss_reason" in self.changed_data:
            try:
                self.instance = services.warning_dismiss(
                    warning=self.instance,
                    actor=self.request.user,
                    reason=cleaned.get("dismiss_reason", ""),
                )
            except DomainError as error:
                raise _form_error(error) from error
        return cleaned


@admin.register(Warning)
class WarningAdmin(StaffOnlyMixin, SimpleHistoryAdmin):
    form = WarningForm
    list_display = (
        "kind",
        "severity",
        "project",
        "lead_unit",
        "description",
        "first_seen",
        "resolved_at",
        "dismissed_at",
    )
    list_filter = (
        WarningStateFilter,
        "kind",
        "severity",
        WarningCountryFilter,
        WarningUnitFilter,
    )
    list_select_related = ("project", "project__lead_unit")
    # A pool's worth of warnings: counted up to a limit (`registry.counting`), no
    # unfiltered total, no counts beside the filters' choices.
    paginator = AdminCountingPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    search_fields = ("project__code", "detail")

    @property
    def media(self):
        # The searched filters' Select2 and the filters' styles.
        return (
            super().media
            + search_select_media()
            + forms.Media(css={"all": ["projects/admin/changelist.css"]})
        )

    readonly_fields = (
        "kind",
        "severity",
        "project",
        "subject",
        "description",
        "first_seen",
        "last_seen",
        "resolved_at",
        "dismissed_at",
        "dismissed_by",
    )

    @admin.display(description=_("lead unit"))
    def lead_unit(self, obj):
        return obj.project.lead_unit

    @admin.display(description=_("detail"))
    def description(self, obj):
        # Written in the reader's language from the stored params (projects.risk.details).
        return obj.description

    def get_queryset(self, request):
        return risk_access.visible_warnings(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False  # raised by the rules only

    def has_change_permission(self, request, obj=None):
        return risk_access.can_dismiss_warnings(request.user) and (obj is None or obj.is_open)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def save_model(self, request, obj, form, change):
        pass  # dismissed by the service in the form's clean()
