"""Workflow parts of the admin: transition buttons with confirmation pages, bulk
transitions, the review-overdue filter, the screening queue and the project history
(`WorkflowAdminMixin`, mixed into `projects.admin.project.ProjectAdmin`), and the admins of
reviews, support decisions, progress updates and status changes.

Every write goes through `projects.services`; every right is asked of `projects.access`
and every transition of `projects.workflow`. The admin only shows and confirms.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import Action, ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from partners.models import Partner
from projects import access, review_rubric, services, workflow
from projects.admin import decision_panel
from projects.admin.filters import (
    DateRangeFilter,
    DropdownChoicesFilter,
    DropdownFilterMixin,
    ValueRangeFilter,
)
from projects.admin.widgets import CurrencySelect, currency_choices
from projects.errors import DomainError, InvalidData
from projects.history import project_history
from projects.models import (
    ProgressUpdate,
    Project,
    Review,
    Status,
    StatusChange,
    SupportDecision,
)
from registry.admin import AccessRightsMixin
from registry.counting import AdminCountingPaginator

# Fields only the workflow changes: shown, never edited.
WORKFLOW_READONLY_FIELDS = ("status", "screening_round", "version")


class ReviewOverdueFilter(admin.SimpleListFilter):
    title = _("periodic review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", _("overdue")), ("due_soon", _("due within 30 days"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.review_overdue(today)
        if self.value() == "due_soon":
            return queryset.filter(
                status__in=[Status.SELECTED, Status.IN_PROGRESS],
                next_review_due__gte=today,
                next_review_due__lte=today + datetime.timedelta(days=30),
            )
        return queryset


class CurrencyFilter(DropdownFilterMixin, admin.SimpleListFilter):
    title = _("currency")
    parameter_name = "currency"

    def lookups(self, request, model_admin):
        return [
            choice for _group, group_choices in currency_choices()[1:] for choice in group_choices
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(currency=self.value())


class TransitionForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=False
    )
    reason_visible_to_partners = forms.BooleanField(
        label=_("visible to partners"),
        required=False,
        help_text=_("Partners of the project read the reason in its history only if ticked."),
    )
    # The version the user confirmed: a change by someone else in between is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, transition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = transition.requires_reason


def error_text(error: DomainError) -> str:
    """A domain refusal as one line of an admin message: the field messages of invalid
    data, or the error's own message."""
    if isinstance(error, InvalidData) and error.errors:
        return " ".join(str(m) for messages_ in error.errors.values() for m in messages_)
    return str(error)


class WorkflowAdminMixin:
    """Mixed into ProjectAdmin; every hook calls super() so other mixins keep working."""

    bulk_transition_template = "admin/projects/project/bulk_transition_confirm.html"
    transition_template = "admin/projects/project/transition_confirm.html"
    screening_queue_template = "admin/projects/project/screening_queue.html"
    screening_queue_page_size = 50

    # --- URLs and views ------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "screening-queue/",
                wrap(self.screening_queue_view),
                name="{}_{}_screening_queue".format(*info),
            ),
            path(
                "<path:object_id>/transition/<str:action>/",
                wrap(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            *super().get_urls(),
        ]

    def _transition_url(self, project, transition) -> str:
        return reverse(
            f"{self.admin_site.name}:projects_project_transition",
            args=[project.pk, transition.name],
        )

    def _change_url(self, project) -> str:
        return reverse(f"{self.admin_site.name}:projects_project_change", args=[project.pk])

    def transition_view(self, request, object_id, action):
        transition = workflow.BY_NAME.get(action)
        project = self.get_object(request, unquote(object_id))
        if (
            transition is None
            or project is None
            or not access.can_view_project(request.user, project)
        ):
            raise Http404(gettext("No such project or action."))
        if not self.has_view_or_change_permission(request, project):
            raise PermissionDenied
        if request.method == "POST":
            form = TransitionForm(request.POST, transition=transition)
            if form.is_valid():
                try:
                    project = services.project_transition(
                        project=project,
                        actor=request.user,
                        action=transition.name,
                        reason=form.cleaned_data["reason"],
                        reason_visible_to_partners=form.cleaned_data["reason_visible_to_partners"],
                        expected_version=form.cleaned_data["version"],
                    )
                except DomainError as error:
                    self.message_user(request, error_text(error), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        gettext("%(project)s: %(action)s done; the project is now %(status)s.")
                        % {
                            "project": project.code,
                            "action": transition.label,
                            "status": project.get_status_display(),
                        },
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(self._change_url(project))
        else:
            if transition not in workflow.available_transitions(project, request.user):
                try:
                    workflow.check_transition(transition, project, request.user, reason="-")
                except DomainError as error:
                    self.message_user(request, error_text(error), messages.ERROR)
                return HttpResponseRedirect(self._change_url(project))
            form = TransitionForm(initial={"version": project.version}, transition=transition)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("%(action)s: %(project)s")
            % {"action": str(transition.label).capitalize(), "project": project},
            "project": project,
            "transition": transition,
            "target_label": workflow.status_label(workflow.resolve_target(transition, project)),
            "form": form,
            "change_url": self._change_url(project),
        }
        return TemplateResponse(request, self.transition_template, context)

    def screening_queue_view(self, request):
        # Reviewers and managers see the whole pool; the queue is theirs.
        if not access.sees_whole_pool(request.user):
            raise PermissionDenied
        review_add = reverse(f"{self.admin_site.name}:projects_review_add")
        queue = workflow.screening_queue(request.user)
        if not access.can_decide(request.user):
            # The order by score would tell what the hidden scores are.
            queue = queue.order_by("code")
        # A page at a time: the whole queue is thousands of projects in a large pool.
        paginator = AdminCountingPaginator(queue, self.screening_queue_page_size)
        page = paginator.get_page(request.GET.get("p"))
        rows = []
        for project in page.object_list:
            may_review = access.can_review(request.user, project) and not project.reviewed_by_me
            rows.append(
                {
                    "project": project,
                    "change_url": self._change_url(project),
                    "review_url": f"{review_add}?project={project.pk}" if may_review else None,
                    "average_score": project.average_score
                    if access.sees_round_scores(request.user, reviewed_by_me=project.reviewed_by_me)
                    else None,
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Screening queue"),
            "rows": rows,
            "page": page,
            "paginator": paginator,
            "min_reviews": settings.REGISTRY_MIN_REVIEWS,
        }
        return TemplateResponse(request, self.screening_queue_template, context)

    # --- Change page ---------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        project = self.get_object(request, unquote(object_id))
        if project is not None and access.can_view_project(request.user, project):
            extra_context["workflow_transitions"] = [
                (transition, self._transition_url(project, transition))
                for transition in workflow.available_transitions(project, request.user)
            ]
            extra_context["decision"] = decision_panel.panel(
                project, request.user, transition_url=self._transition_url
            )
            extra_context["project_history"] = project_history(
                project, partner_view=access.is_partner_only(request.user), viewer=request.user
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [name for name in WORKFLOW_READONLY_FIELDS if name not in fields]

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        return filters if ReviewOverdueFilter in filters else [*filters, ReviewOverdueFilter]

    def has_delete_permission(self, request, obj=None):
        # Projects leave the pool by `withdraw` or `archive`, never by deletion.
        return False

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history's revert page would set old values (status included) around the
        # services; the history is read on the change page instead.
        raise PermissionDenied

    # --- Bulk transitions ----------------------------------------------------------------

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        if action_location != ActionLocation.CHANGE_LIST:
            return actions
        for transition in workflow.transitions_for_user(request.user):
            name = f"transition_{transition.name}"
            description = gettext("%(action)s the selected projects") % {
                "action": str(transition.label).capitalize()
            }
            actions[name] = Action(
                func=self._bulk_action(transition),
                name=name,
                description=description,
                plural_description=description,
                locations=[ActionLocation.CHANGE_LIST],
            )
        return actions

    def _bulk_action(self, transition):
        def action(modeladmin, request, queryset):
            return modeladmin.bulk_transition(request, queryset, transition)

        action.__name__ = f"transition_{transition.name}"
        return action

    def bulk_transition(self, request, queryset, transition):
        projects = list(queryset.order_by("code"))
        form = TransitionForm(
            request.POST if request.POST.get("apply") else None, transition=transition
        )
        if not form.is_bound or not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("%(action)s %(count)d projects")
                % {"action": str(transition.label).capitalize(), "count": len(projects)},
                "transition": transition,
                "projects": projects,
                "form": form,
                "action_name": f"transition_{transition.name}",
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, self.bulk_transition_template, context)
        done, refused = [], []
        for project in projects:
            # Each project in its own transaction: one refusal does not undo the others.
            try:
                services.project_transition(
                    project=project,
                    actor=request.user,
                    action=transition.name,
                    reason=form.cleaned_data["reason"],
                    reason_visible_to_partners=form.cleaned_data["reason_visible_to_partners"],
                )
            except DomainError as error:
                refused.append(f"{project.code}: {error_text(error)}")
            else:
                done.append(project.code)
        message = gettext("%(action)s: %(done)d done") % {
            "action": str(transition.label).capitalize(),
            "done": len(done),
        }
        if done:
            message += f" ({', '.join(done)})"
        if refused:
            message += gettext("; %(count)d refused — %(reasons)s") % {
                "count": len(refused),
                "reasons": "; ".join(refused),
            }
        level = messages.SUCCESS if not refused else messages.WARNING if done else messages.ERROR
        self.message_user(request, message + ".", level)
        return None


# --- Admins that add through a service ----------------------------------------------------


class PoolScaleChangelistMixin:
    """A changelist over a table that grows with the pool (reviews, decisions, progress,
    transitions): counted up to a limit and estimated above it (`registry.counting`), no
    unfiltered total, no counts beside the filters' choices, and dates filtered by range
    rather than by a date hierarchy (whose year and month links are a DISTINCT over the
    whole table on every request)."""

    paginator = AdminCountingPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class ServiceAddAdmin(PoolScaleChangelistMixin, AccessRightsMixin, admin.ModelAdmin):
    """Adds through a form whose data goes to a service function; read-only afterwards,
    never deleted."""

    add_form_class: type[forms.Form]
    service_form_template = "admin/projects/service_form.html"

    class Media:
        css = {"all": ("projects/admin/changelist.css",)}

    def call_service(self, request, data: dict):
        raise NotImplementedError

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(project__in=access.visible_projects(request.user))
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_success_url(self, request, obj) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist"
        )

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = self.add_form_class(request.POST, user=request.user)
            if form.is_valid():
                try:
                    obj = self.call_service(request, form.cleaned_data)
                except InvalidData as error:
                    for field, field_messages in error.errors.items():
                        for message in field_messages:
                            form.add_error(field if field in form.fields else None, message)
                except DomainError as error:
                    form.add_error(None, str(error))
                else:
                    self.log_addition(request, obj, [{"added": {}}])
                    self.message_user(
                        request,
                        gettext("%(model)s “%(object)s” recorded.")
                        % {"model": self.opts.verbose_name.capitalize(), "object": obj},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self.get_success_url(request, obj))
        else:
            form = self.add_form_class(initial=request.GET.dict(), user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Add %(model)s") % {"model": self.opts.verbose_name},
            "form": form,
            # The admin's own scripts (date pickers) for the form's widgets.
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.service_form_template, context)


def _project_page(admin_site, obj) -> str:
    """Support and progress are recorded from the project's page: back to it."""
    return reverse(f"{admin_site.name}:projects_project_change", args=[obj.project_id])


class UserForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user


class ReviewForm(UserForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), label=_("project"))
    # No recommendation chosen in advance: the reviewer picks one.
    recommendation = forms.ChoiceField(
        choices=[("", "—"), *Review.Recommendation.choices], label=_("recommendation")
    )
    comment = forms.CharField(label=_("comment"), widget=forms.Textarea, required=False)
    # Declared with every review, nothing chosen in advance; the service checks that a
    # declared conflict says what it is.
    conflict_declaration = forms.ChoiceField(
        choices=[
            (value, label)
            for value, label in Review.ConflictDeclaration.choices
            if value in services.REVIEW_DECLARATIONS
        ],
        label=_("conflict of interest"),
        widget=forms.RadioSelect,
        help_text=_(
            "A review with a declared conflict is kept and shown to managers, but not counted "
            "in the round's average, spread or reviews needed."
        ),
    )
    conflict_note = forms.CharField(
        label=_("conflict of interest note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Required when you declare a conflict: say what it is."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = access.visible_projects(
            self.user, Project.objects.filter(status=Status.SCREENING)
        )
        for name in Review.CRITERIA:
            field = Review._meta.get_field(name)
            # Each level with what it means for this criterion (the rubric).
            self.fields[name] = forms.TypedChoiceField(
                choices=review_rubric.choices(name),
                coerce=int,
                label=field.verbose_name,
                help_text=field.help_text,
                widget=forms.RadioSelect(attrs={"class": "rubric"}),
            )
        self.order_fields(
            [
                "project",
                *Review.CRITERIA,
                "recommendation",
                "comment",
                "conflict_declaration",
                "conflict_note",
            ]
        )


@admin.register(Review)
class ReviewAdmin(ServiceAddAdmin):
    add_form_class = ReviewForm
    service_form_template = "admin/projects/review/review_form.html"
    change_list_template = "admin/projects/review/change_list.html"
    list_display = (
        "project",
        "reviewer",
        "round",
        "weighted_score",
        "recommendation",
        "conflict_declaration",
        "created_at",
    )
    list_filter = (
        ("recommendation", DropdownChoicesFilter),
        ("conflict_declaration", DropdownChoicesFilter),
        # Typed, not listed: the rounds' list was a DISTINCT over every review.
        ("round", ValueRangeFilter),
        ("created_at", DateRangeFilter),
    )
    list_select_related = ("project", "reviewer")
    search_fields = ("project__code", "project__title_zh", "project__title_en")

    def get_queryset(self, request):
        return access.visible_reviews(request.user, super().get_queryset(request))

    def add_view(self, request, form_url="", extra_context=None):
        # The project under review, summarised beside the rubric.
        project_id = request.POST.get("project") or request.GET.get("project") or ""
        project = None
        if project_id.isdigit():
            in_screening = Project.objects.filter(status=Status.SCREENING, pk=project_id)
            project = access.visible_projects(request.user, in_screening).with_relations().first()
        extra_context = {
            **(extra_context or {}),
            "summary_project": project,
            "criteria": Review.CRITERIA,
        }
        return super().add_view(request, form_url, extra_context)

    def get_success_url(self, request, obj) -> str:
        # A reviewer works down the queue: back to it after each review.
        return reverse(f"{self.admin_site.name}:projects_project_screening_queue")

    def call_service(self, request, data):
        return services.review_record(
            project=data["project"],
            reviewer=request.user,
            scores={name: data[name] for name in Review.CRITERIA},
            recommendation=data["recommendation"],
            conflict_declaration=data["conflict_declaration"],
            conflict_note=data["conflict_note"],
            comment=data["comment"],
        )


class SupportDecisionForm(UserForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), label=_("project"))
    kind = forms.ChoiceField(choices=SupportDecision.Kind.choices, label=_("kind"))
    amount = forms.DecimalField(
        label=_("amount"), max_digits=18, decimal_places=2, min_value=0, required=False
    )
    currency = forms.CharField(
        label=_("currency"), max_length=3, required=False, widget=CurrencySelect
    )
    conditions = forms.CharField(label=_("conditions"), widget=forms.Textarea, required=False)
    decided_on = forms.DateField(
        label=_("decided on"), initial=timezone.localdate, widget=AdminDateWidget
    )
    valid_until = forms.DateField(label=_("valid until"), required=False, widget=AdminDateWidget)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = access.visible_projects(
            self.user, Project.objects.filter(status__in=services.SUPPORT_STATUSES)
        )


@admin.register(SupportDecision)
class SupportDecisionAdmin(ServiceAddAdmin):
    add_form_class = SupportDecisionForm
    list_display = (
        "project",
        "kind",
        "amount",
        "currency",
        "decided_by",
        "decided_on",
        "valid_until",
    )
    list_filter = (
        ("kind", DropdownChoicesFilter),
        # The ISO list, not the currencies in use (a DISTINCT over every decision).
        CurrencyFilter,
        ("decided_on", DateRangeFilter),
    )
    list_select_related = ("project", "decided_by")
    search_fields = ("project__code", "project__title_zh", "project__title_en")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and access.can_decide(request.user)

    def get_success_url(self, request, obj) -> str:
        return _project_page(self.admin_site, obj)

    def call_service(self, request, data):
        return services.support_decide(
            project=data["project"],
            actor=request.user,
            kind=data["kind"],
            amount=data["amount"],
            currency=data["currency"],
            conditions=data["conditions"],
            decided_on=data["decided_on"],
            valid_until=data["valid_until"],
        )


class ProgressUpdateForm(UserForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), label=_("project"))
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.none(), label=_("on behalf of"), required=False
    )
    reported_on = forms.DateField(
        label=_("reported on"), initial=timezone.localdate, widget=AdminDateWidget
    )
    note = forms.CharField(label=_("note"), widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = access.visible_projects(
            self.user, Project.objects.filter(status__in=services.PROGRESS_STATUSES)
        )
        self.fields["partner"].queryset = Partner.objects.filter(
            pk__in=access.member_partner_ids(self.user)
        )


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ServiceAddAdmin):
    add_form_class = ProgressUpdateForm
    list_display = ("project", "reported_on", "author", "partner", "created_at")
    list_select_related = ("project", "author", "partner")
    search_fields = ("project__code", "note")
    list_filter = (("reported_on", DateRangeFilter),)

    def get_success_url(self, request, obj) -> str:
        return _project_page(self.admin_site, obj)

    def call_service(self, request, data):
        return services.progress_post(
            project=data["project"],
            actor=request.user,
            note=data["note"],
            reported_on=data["reported_on"],
            partner=data["partner"],
        )


@admin.register(StatusChange)
class StatusChangeAdmin(PoolScaleChangelistMixin, AccessRightsMixin, admin.ModelAdmin):
    """The transition log: readable, never written or removed through the admin."""

    list_display = ("project", "action", "from_status", "to_status", "actor", "created_at")
    list_filter = (
        ("action", DropdownChoicesFilter),
        ("to_status", DropdownChoicesFilter),
        ("created_at", DateRangeFilter),
    )
    list_select_related = ("project", "actor")
    search_fields = ("project__code", "reason")

    class Media:
        css = {"all": ("projects/admin/changelist.css",)}

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(project__in=access.visible_projects(request.user))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
