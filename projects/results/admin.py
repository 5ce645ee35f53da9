"""Admin pages for results. Every save goes through `projects.results.services`, so the
admin obeys the same rules (and leaves the same history) as the API."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from projects import access
from projects.errors import DomainError, InvalidData
from projects.results import access as results_access
from projects.results import services
from projects.results.models import Indicator, Period, Result, StandardIndicator
from registry.admin import AccessRightsMixin, NoDeleteMixin


def _raise_as_form_errors(form, error: DomainError) -> None:
    """A domain refusal as form errors: the page shows them and nothing is saved."""
    if isinstance(error, InvalidData):
        messages_ = {
            (field if field in form.fields else None): msgs for field, msgs in error.errors.items()
        }
        raise ValidationError(
            [f"{field}: {' '.join(map(str, msgs))}" if field else " ".join(map(str, msgs))
             for field, msgs in messages_.items()]
        )  # fmt: skip
    raise ValidationError(str(error.message))


@admin.register(StandardIndicator)
class StandardIndicatorAdmin(NoDeleteMixin, AccessRightsMixin, SimpleHistoryAdmin):
    list_display = ("code", "name_zh", "name_en", "unit", "ascending", "active", "sort_order")
    list_filter = ("active", "ascending")
    search_fields = ("code", "name_zh", "name_en")

    def has_add_permission(self, request):
        return results_access.can_manage_standard_indicators(request.user)

    def has_change_permission(self, request, obj=None):
        return results_access.can_manage_standard_indicators(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_staff_member(request.user)

    def get_readonly_fields(self, request, obj=None):
        # A code that projects' indicators follow is their link to the library: fixed.
        return ("code",) if obj is not None else ()


class StaffResultsMixin(NoDeleteMixin, AccessRightsMixin):
    """Results of the projects the user sees; changed by those who may define them."""

    project_path = "project"

    def get_queryset(self, request):
        visible = access.visible_projects(request.user)
        return super().get_queryset(request).filter(**{f"{self.project_path}__in": visible})

    def has_view_permission(self, request, obj=None):
        return access.is_staff_member(request.user) and super().has_view_permission(request, obj)

    def project_of(self, obj):
        return obj.project

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or results_access.can_define_results(request.user, self.project_of(obj))

    def _project_choices(self, request):
        return access.editable_projects(request.user)


class ResultForm(forms.ModelForm):
    class Meta:
        model = Result
        fields = ("project", "type", "title_zh", "title_en")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                self.instance = services.result_create(
                    project=cleaned["project"],
                    actor=self.request.user,
                    type=cleaned["type"],
                    title_zh=cleaned.get("title_zh", ""),
                    title_en=cleaned.get("title_en", ""),
                )
            except DomainError as error:
                _raise_as_form_errors(self, error)
        return cleaned


class ResultAdmin(StaffResultsMixin, SimpleHistoryAdmin):
    form = ResultForm
    list_display = ("title", "type", "project")
    list_filter = ("type",)
    list_select_related = ("project",)
    search_fields = ("title_zh", "title_en", "project__code")
    raw_id_fields = ("project",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class BoundForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return BoundForm

    def get_urls(self):
        from django.urls import path

        from projects.results.scorecards import scorecards_view

        return [
            path(
                "scorecards/",
                self.admin_site.admin_view(scorecards_view),
                name="projects_scorecards",
            ),
            *super().get_urls(),
        ]

    def get_readonly_fields(self, request, obj=None):
        # A result's framing is fixed once created; its indicators and periods carry on.
        return ("project", "type", "title_zh", "title_en") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        # Saved by the service in the form's clean(), under the project lock.
        pass


admin.site.register(Result, ResultAdmin)


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        fields = (
            "result",
            "standard",
            "title_zh",
            "title_en",
            "measure",
            "unit",
            "ascending",
            "baseline_year",
            "baseline_value",
            "baseline_comment",
        )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            data = services.IndicatorData(
                **{name: cleaned.get(name) for name in self.Meta.fields if name != "result"}
            )
            data.title_zh = data.title_zh or ""
            data.title_en = data.title_en or ""
            data.unit = data.unit or ""
            data.baseline_comment = data.baseline_comment or ""
            try:
                self.instance = services.indicator_add(
                    result=cleaned["result"], actor=self.request.user, data=data
                )
            except DomainError as error:
                _raise_as_form_errors(self, error)
        return cleaned


class PeriodInline(AccessRightsMixin, admin.TabularInline):
    model = Period
    fields = ("period_start", "period_end", "target_value", "actual_value", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class IndicatorAdmin(StaffResultsMixin, SimpleHistoryAdmin):
    form = IndicatorForm
    project_path = "result__project"
    list_display = ("title", "result", "standard", "measure", "unit", "baseline_value")
    list_filter = ("measure", "standard")
    list_select_related = ("result", "standard")
    search_fields = ("title_zh", "title_en", "result__project__code")
    raw_id_fields = ("result",)
    inlines = (PeriodInline,)

    def project_of(self, obj):
        return obj.result.project

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def get_readonly_fields(self, request, obj=None):
        return IndicatorForm.Meta.fields if obj is not None else ()

    def save_model(self, request, obj, form, change):
        pass

    def get_inlines(self, request, obj):
        # The periods inline is read-only, shown once the indicator exists; periods are
        # added on their own page.
        return self.inlines if obj is not None else ()


admin.site.register(Indicator, IndicatorAdmin)


class PeriodForm(forms.ModelForm):
    DECISIONS = (
        ("", "—"),
        ("approve", _("approve the reported actual")),
        ("return", _("return it to the reporter")),
    )
    decision = forms.ChoiceField(label=_("decision"), choices=DECISIONS, required=False)
    decision_comment = forms.CharField(
        label=_("comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    class Meta:
        model = Period
        fields = ("indicator", "period_start", "period_end", "target_value", "target_comment")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        user = self.request.user
        try:
            # One transaction: a refused decision also undoes the target change with it.
            with transaction.atomic():
                self.instance = self._save(cleaned, user)
        except DomainError as error:
            _raise_as_form_errors(self, error)
        return cleaned

    def _save(self, cleaned, user) -> Period:
        if self.instance.pk is None:
            return services.period_add(
                indicator=cleaned["indicator"],
                actor=user,
                data=services.PeriodData(
                    period_start=cleaned["period_start"],
                    period_end=cleaned["period_end"],
                    target_value=cleaned.get("target_value"),
                    target_comment=cleaned.get("target_comment") or "",
                ),
            )
        period = self.instance
        if {"target_value", "target_comment"} & set(self.changed_data):
            period = services.period_set_target(
                period=period,
                actor=user,
                target_value=cleaned.get("target_value"),
                target_comment=cleaned.get("target_comment") or "",
            )
        decision = cleaned.get("decision")
        if decision == "approve":
            period = services.period_approve(period=period, actor=user)
        elif decision == "return":
            period = services.period_return(
                period=period, actor=user, comment=cleaned.get("decision_comment", "")
            )
        return period


class PeriodAdmin(StaffResultsMixin, SimpleHistoryAdmin):
    form = PeriodForm
    project_path = "indicator__result__project"
    list_display = (
        "__str__",
        "indicator",
        "target_value",
        "actual_value",
        "status",
        "reported_by",
        "approved_by",
    )
    list_filter = ("status",)
    list_select_related = ("indicator", "indicator__standard", "reported_by", "approved_by")
    search_fields = ("indicator__result__project__code",)
    raw_id_fields = ("indicator",)
    readonly_fields = (
        "status",
        "actual_value",
        "actual_comment",
        "reported_by",
        "reporting_partner",
        "reported_at",
        "approved_by",
        "approved_at",
        "review_comment",
    )
    actions = ("approve_selected",)

    def project_of(self, obj):
        return obj.indicator.result.project

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = None
        form = super().get_form(request, obj, change, **kwargs)
        form.request = request
        return form

    def get_fieldsets(self, request, obj=None):
        main = ("indicator", ("period_start", "period_end"), "target_value", "target_comment")
        if obj is None:
            return ((None, {"fields": main}),)
        return (
            (None, {"fields": main}),
            (_("Actual"), {"fields": self.readonly_fields}),
            (_("Review"), {"fields": ("decision", "decision_comment")}),
        )

    def get_readonly_fields(self, request, obj=None):
        fixed = ("indicator", "period_start", "period_end") if obj is not None else ()
        return (*fixed, *self.readonly_fields)

    def save_model(self, request, obj, form, change):
        pass

    @admin.action(description=_("Approve the selected reported actuals"))
    def approve_selected(self, request, queryset):
        approved = 0
        for period in queryset.filter(status=Period.State.REPORTED):
            try:
                services.period_approve(period=period, actor=request.user)
            except DomainError as error:
                self.message_user(request, str(error.message), messages.ERROR)
            else:
                approved += 1
        self.message_user(
            request,
            _("%(count)d reported actuals approved.") % {"count": approved},
            messages.SUCCESS,
        )


admin.site.register(Period, PeriodAdmin)
