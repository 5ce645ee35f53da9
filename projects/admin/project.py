"""Admin for the project pool. Who sees and changes what is decided by `projects.access`;
a save goes through `projects.services`, so the admin obeys the same rules as the API."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from partners.admin import narrow_autocomplete
from partners.models import Partner
from projects import access, services, workflow
from projects.admin.display import amount_html, exact_amount, share_text
from projects.admin.exports import ProjectExportAdminMixin
from projects.admin.filters import (
    DateRangeFilter,
    DropdownChoicesFilter,
    DropdownFilterMixin,
    SearchFilter,
    ValueRangeFilter,
    choice_urls,
    search_select_media,
)
from projects.admin.importing import ImportAdminMixin
from projects.admin.widgets import CurrencySelect
from projects.admin.workflow import WorkflowAdminMixin, error_text
from projects.errors import DomainError, StaleWrite
from projects.models import (
    Participation,
    Project,
    ProjectCountry,
    ProjectSector,
)
from projects.sites.admin import SiteInline, save_site_formsets
from projects.validation import validate_shares
from registry.admin import AccessRightsMixin
from registry.counting import AdminCountingPaginator
from registry.models import CountryGroup, Sector

# --- Filters ----------------------------------------------------------------------------


class ReferenceCodeFilter(DropdownFilterMixin, admin.SimpleListFilter):
    """Projects by the code of a reference row (sector, country group), as in the API and
    the dashboard's links, with the project list's own rule for it (`in_sector`,
    `in_country_group`). An unknown code is a bad lookup (the "?e=1" page)."""

    reference_model = None
    # The ProjectQuerySet method that filters by one row of `reference_model`.
    project_method = ""

    def label(self, row) -> str:
        return row.name

    def lookups(self, request, model_admin):
        return [(row.code, self.label(row)) for row in self.reference_model.objects.all()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        row = self.reference_model.objects.filter(code=self.value()).first()
        if row is None:
            raise IncorrectLookupParameters(self.value())
        return getattr(queryset, self.project_method)(row)


class SectorFilter(ReferenceCodeFilter):
    """A top-level sector includes its sub-sectors (shown indented under it)."""

    title = _("sector")
    parameter_name = "sector"
    reference_model = Sector
    project_method = "in_sector"

    def label(self, row) -> str:
        return f"— {row.name}" if row.parent_id else row.name


class CountryFilter(SearchFilter):
    """Typed, not listed: listing only the countries some project names read the whole
    country-share table on every request."""

    title = _("country")
    parameter_name = "country"
    source = "country"

    def filter_on(self, queryset, row):
        return queryset.filter(
            Exists(ProjectCountry.objects.filter(project=OuterRef("pk"), country_id=row.pk))
        )


class CountryGroupFilter(ReferenceCodeFilter):
    title = _("country group")
    parameter_name = "country_group"
    reference_model = CountryGroup
    project_method = "in_country_group"


class LeadUnitFilter(SearchFilter):
    title = _("lead unit")
    parameter_name = "lead_unit"
    source = "partner"

    def filter_on(self, queryset, row):
        return queryset.filter(lead_unit_id=row.pk)


class ParticipatingPartnerFilter(SearchFilter):
    title = _("participating partner")
    parameter_name = "partner"
    source = "partner"

    def filter_on(self, queryset, row):
        return queryset.filter(
            Exists(Participation.objects.filter(project=OuterRef("pk"), partner_id=row.pk))
        )


# --- Inlines ----------------------------------------------------------------------------


class ProjectInlineMixin:
    """The rows of a project are changed by whoever may change the project, while the
    editable-fields table (`workflow.EDITABLE_FIELDS`) lets them change this list."""

    extra = 0
    # The list's name in the editable-fields table.
    table_name = ""

    def _may_change_list(self, request, obj) -> bool:
        return obj is None or (
            access.can_edit_project(request.user, obj)
            and self.table_name in workflow.editable_fields(request.user, obj)
        )

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_change_list(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_change_list(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_change_list(request, obj)


class SharesFormSet(BaseInlineFormSet):
    """Countries or sectors of one project: each listed once (the formset's unique check,
    from the model's constraint), shares adding up to 100 when given."""

    share_label = ""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        shares = [form.cleaned_data.get("share") for form in _kept_forms(self)]
        try:
            validate_shares(shares, label=str(self.share_label))
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class CountryFormSet(SharesFormSet):
    share_label = _("countries")


class SectorFormSet(SharesFormSet):
    share_label = _("sectors")


class ProjectCountryInline(ProjectInlineMixin, AccessRightsMixin, admin.TabularInline):
    model = ProjectCountry
    table_name = "countries"
    formset = CountryFormSet
    autocomplete_fields = ("country",)
    fields = ("country", "share")


class ProjectSectorInline(ProjectInlineMixin, AccessRightsMixin, admin.TabularInline):
    model = ProjectSector
    table_name = "sectors"
    formset = SectorFormSet
    autocomplete_fields = ("sector",)
    fields = ("sector", "share")


class ParticipationInline(ProjectInlineMixin, AccessRightsMixin, admin.TabularInline):
    model = Participation
    table_name = "participations"
    autocomplete_fields = ("partner",)
    fields = ("partner", "role")


# --- The project form and admin ---------------------------------------------------------


class ProjectAdminForm(forms.ModelForm):
    # The version the user loaded; a save over someone else's newer change is refused,
    # as the API refuses a stale If-Match.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Project
        fields = [*services.EDITABLE_FIELDS, "tags"]
        widgets = {"currency": CurrencySelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned_data = super().clean()
        expected = cleaned_data.get("expected_version")
        if self.instance.pk and expected is not None:
            current = Project.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            if current.first() != expected:
                raise ValidationError(StaleWrite.default_message, code="stale_write")
        return cleaned_data


def _marked_deleted(form) -> bool:
    # The formset's DELETE checkbox, as documented for `can_delete` formsets.
    return bool(form.cleaned_data.get("DELETE"))


def _kept_forms(formset) -> list:
    """The filled-in rows of a valid inline formset that are not marked for deletion."""
    return [form for form in formset.forms if form.cleaned_data and not _marked_deleted(form)]


def _note_formset_changes(formset) -> None:
    """The service saved the rows; set the lists formset.save() leaves (`new_objects`,
    `changed_objects`, `deleted_objects`, public attributes of model formsets), which the
    admin's change message is built from."""
    deleted = [form for form in formset.initial_forms if _marked_deleted(form)]
    formset.deleted_objects = [form.instance for form in deleted]
    formset.changed_objects = [
        (form.instance, form.changed_data)
        for form in formset.initial_forms
        if form not in deleted and form.has_changed()
    ]
    formset.new_objects = [
        form.instance
        for form in formset.extra_forms
        if form.has_changed() and not _marked_deleted(form)
    ]


def _live_rows(formset):
    return [form.cleaned_data for form in _kept_forms(formset)]


def _links_from_formsets(formsets) -> dict:
    links = {}
    for formset in formsets:
        rows = _live_rows(formset)
        if formset.model is ProjectCountry:
            links["countries"] = [services.CountryShare(r["country"].pk, r["share"]) for r in rows]
        elif formset.model is ProjectSector:
            links["sectors"] = [services.SectorShare(r["sector"].pk, r["share"]) for r in rows]
        elif formset.model is Participation:
            links["participations"] = [
                services.PartnerRole(r["partner"].pk, r["role"]) for r in rows
            ]
    return links


def _exact_amount_shown(fieldsets):
    """The fieldsets with the read-only value and currency as one exact amount."""
    shown = []
    for name, options in fieldsets:
        fields = [
            "exact_value" if row == ("estimated_value", "currency") else row
            for row in options["fields"]
        ]
        shown.append((name, {**options, "fields": fields}))
    return tuple(shown)


# The lead-unit autocomplete offers only the units the user may name (partners' admin
# answers the autocomplete; the rule is ours).
narrow_autocomplete("projects", "project", "lead_unit", access.assignable_lead_units)


@admin.register(Project)
class ProjectAdmin(
    ProjectExportAdminMixin,
    ImportAdminMixin,
    WorkflowAdminMixin,
    AccessRightsMixin,
    SimpleHistoryAdmin,
):
    form = ProjectAdminForm
    actions = ProjectExportAdminMixin.export_actions
    list_display = (
        "code",
        "display_title",
        "kind",
        "status",
        "lead_unit",
        "display_countries",
        "display_sectors",
        "display_value",
        "next_review_due",
    )
    list_display_links = ("code", "display_title")
    list_filter = (
        ("status", DropdownChoicesFilter),
        ("kind", DropdownChoicesFilter),
        ("risk_level", DropdownChoicesFilter),
        ("estimated_value", ValueRangeFilter),
        ("planned_start", DateRangeFilter),
        ("created_at", DateRangeFilter),
        SectorFilter,
        CountryFilter,
        CountryGroupFilter,
        LeadUnitFilter,
        ParticipatingPartnerFilter,
    )
    list_select_related = ("lead_unit",)
    # get_search_results below does the searching; these name what it covers.
    search_fields = (
        "code",
        "title_zh",
        "title_en",
        "lead_unit__name_zh",
        "lead_unit__name_en",
        "participations__partner__name_zh",
        "participations__partner__name_en",
    )
    search_help_text = _(
        "Code, title (Chinese or English), lead unit or participating partner name."
    )
    autocomplete_fields = ("lead_unit", "tags")
    readonly_fields = (
        "code",
        "status",
        "version",
        "screening_round",
        "created_by",
        "created_at",
        "updated_at",
        "exact_value",
    )
    inlines = (ProjectCountryInline, ProjectSectorInline, ParticipationInline, SiteInline)
    list_per_page = 50
    # Django counts the whole table for "N total" and the filtered rows for the pages;
    # both grow with the pool. The pages count up to a limit and estimate above it
    # (`registry.counting`, "about N"), and the unfiltered total is not shown.
    paginator = AdminCountingPaginator
    show_full_result_count = False
    # Counts beside each filter's choices ("show counts") would count the pool once per
    # choice: not offered.
    show_facets = admin.ShowFacets.NEVER

    @property
    def media(self):
        # The searched filters' Select2 (the change form has it through its own widgets).
        return (
            super().media
            + search_select_media()
            + forms.Media(
                css={"all": ["projects/admin/changelist.css"]},
                js=["projects/admin/date_only.js"],
            )
        )

    def get_urls(self):
        # The searched filters' choices (lead unit, partner, country), also asked by the
        # dashboard's and the warnings' filters.
        return [*choice_urls(self), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        # The list takes the whole width: with the navigation sidebar beside it and the
        # filters, its last columns were cut off on a laptop screen (1440 px). The
        # breadcrumbs and the index lead elsewhere.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    base_fieldsets = (
        (None, {"fields": ("title_zh", "title_en", "kind", "lead_unit", "tags")}),
        (_("Summary and support"), {"fields": ("summary_zh", "summary_en", "support_requested")}),
        (
            _("Dates and value"),
            {
                "fields": (
                    ("planned_start", "planned_end"),
                    ("actual_start", "actual_end"),
                    ("estimated_value", "currency"),
                    "next_review_due",
                )
            },
        ),
        (_("Risk"), {"fields": ("risk_level", "risk_notes", "internal_notes")}),
    )
    record_fields = (
        "code",
        "status",
        "version",
        "screening_round",
        "created_by",
        "created_at",
        "updated_at",
    )

    # --- access ---

    def get_queryset(self, request):
        return access.visible_projects(request.user, super().get_queryset(request)).with_relations()

    def has_view_permission(self, request, obj=None):
        # Partners use the API, which shows them partner fields only; the admin shows
        # internal ones, so a partner account marked as staff by mistake still sees nothing.
        if not access.is_staff_member(request.user):
            return False
        return super().has_view_permission(request, obj) and (
            obj is None or access.can_view_project(request.user, obj)
        )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and access.can_create_project(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or access.can_edit_project(request.user, obj)
        )

    def revert_disabled(self, request, obj=None):
        # Reverting would write old values (status included) around the services.
        return True

    object_history_list_template = "admin/projects/project/object_history_list.html"

    def get_readonly_fields(self, request, obj=None):
        # What the editable-fields table does not let this user change now is shown, not
        # offered (the service refuses it anyway, with the same rule).
        readonly = list(super().get_readonly_fields(request, obj))
        editable = workflow.editable_fields(request.user, obj or Project())
        return readonly + [
            name for name in (*services.EDITABLE_FIELDS, "tags") if name not in editable
        ]

    def get_changeform_initial_data(self, request):
        # An officer of a single unit has only one lead unit to pick: pick it for them.
        initial = super().get_changeform_initial_data(request)
        if "lead_unit" not in initial:
            units = list(access.assignable_lead_units(request.user, Partner.objects.all())[:2])
            if len(units) == 1:
                initial["lead_unit"] = units[0].pk
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead_unit":
            kwargs["queryset"] = access.assignable_lead_units(request.user, Partner.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- form layout ---

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.base_fieldsets
        record = list(self.record_fields)
        if self.has_change_permission(request, obj):
            record.append("expected_version")
        fieldsets = (*self.base_fieldsets, (_("Record"), {"fields": record}))
        readonly = self.get_readonly_fields(request, obj)
        if "estimated_value" in readonly and "currency" in readonly:
            fieldsets = _exact_amount_shown(fieldsets)
        return fieldsets

    # --- list columns ---

    def get_search_results(self, request, queryset, search_term):
        # Exists() rather than joins: a project with several matching partners stays one row.
        for bit in smart_split(search_term):
            if bit[:1] in {'"', "'"} and bit[-1:] == bit[:1]:
                bit = unescape_string_literal(bit)
            partner_match = Participation.objects.filter(project=OuterRef("pk")).filter(
                Q(partner__name_zh__icontains=bit) | Q(partner__name_en__icontains=bit)
            )
            queryset = queryset.filter(
                Q(code__icontains=bit)
                | Q(title_zh__icontains=bit)
                | Q(title_en__icontains=bit)
                | Q(lead_unit__name_zh__icontains=bit)
                | Q(lead_unit__name_en__icontains=bit)
                | Exists(partner_match)
            )
        return queryset, False

    @admin.display(description=_("title"), ordering="title_zh")
    def display_title(self, obj):
        return obj.title

    @admin.display(description=_("countries"))
    def display_countries(self, obj):
        return ", ".join(
            f"{row.country.name} {share_text(row.share)}%"
            if row.share is not None
            else row.country.name
            for row in obj.project_countries.all()
        )

    @admin.display(description=_("sectors"))
    def display_sectors(self, obj):
        return ", ".join(str(row.sector) for row in obj.project_sectors.all())

    @admin.display(description=_("estimated value"), ordering="estimated_value")
    def display_value(self, obj):
        return amount_html(obj.estimated_value, obj.currency)

    @admin.display(description=_("estimated value"))
    def exact_value(self, obj):
        # The read-only page gives the exact figure, with separators (1,000,000.00 CNY).
        if obj.estimated_value is None:
            return "-"
        return f"{exact_amount(obj.estimated_value)} {obj.currency}".strip()

    # --- saving through the services ---

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The forms check what the services check, so this catches only what changed in
        # between (a concurrent edit): the transaction is rolled back and the user told.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error_text(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        # Nothing here: the project and its rows are written together in save_related,
        # where the inline formsets are known, by one service call.
        pass

    def save_related(self, request, form, formsets, change):
        data = {
            name: form.cleaned_data[name]
            for name in services.EDITABLE_FIELDS
            if name in form.cleaned_data
        }
        tags = (
            [tag.name for tag in form.cleaned_data["tags"]] if "tags" in form.cleaned_data else None
        )
        links = _links_from_formsets(formsets)
        if change:
            saved, _changed = services.project_update(
                actor=request.user,
                project=form.instance,
                data=data,
                tags=tags,
                expected_version=form.cleaned_data.get("expected_version"),
                **links,
            )
        else:
            saved = services.project_create(actor=request.user, data=data, tags=tags or (), **links)
            # The admin logs and redirects with the unsaved object its form built; these
            # are told the project the service wrote instead (log_addition, response_add).
            request.registry_created_project = saved
        save_site_formsets(actor=request.user, project=saved, formsets=formsets)
        for formset in formsets:
            _note_formset_changes(formset)

    def log_addition(self, request, obj, message):
        obj = getattr(request, "registry_created_project", obj)
        return super().log_addition(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        obj = getattr(request, "registry_created_project", obj)
        return super().response_add(request, obj, post_url_continue)


# Results pages register themselves with the admin site.
# Tags and users: retired, never deleted (their own module keeps this one short).
from projects.admin import retire  # noqa: E402, F401
from projects.results import admin as results_admin  # noqa: E402, F401
from projects.risk import admin as risk_admin  # noqa: E402, F401
