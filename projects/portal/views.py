"""Project pages of the partner portal. Every project is looked up through
`access.visible_projects` (a project outside the user's reach is a 404, exactly as in
the API); every write goes through `services.progress_post`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from partners.models import Partner
from projects import access, services
from projects.api.search import search_projects
from projects.errors import DomainError, InvalidData
from projects.history import project_history
from projects.models import Project, Status
from projects.portal.forms import ActualForm, ProgressForm, ProjectSearchForm
from projects.results import access as results_access
from projects.results import services as results_services
from projects.results.models import Indicator, Period, Result

portal_login_required = login_required(login_url="portal:login")
PAGE_SIZE = 20


def _statuses_for(user) -> list[str]:
    """The statuses offered in the filter: a partner never sees drafts."""
    hide_drafts = access.is_partner_only(user)
    return [value for value in Status.values if not (hide_drafts and value == Status.DRAFT)]


@portal_login_required
def project_list(request):
    form = ProjectSearchForm(request.GET or None, statuses=_statuses_for(request.user))
    projects = access.visible_projects(request.user).select_related("lead_unit")
    if form.is_valid():
        if form.cleaned_data["q"].strip():
            projects = search_projects(projects, form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            projects = projects.filter(status=form.cleaned_data["status"])
    page = Paginator(projects.order_by("-updated_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/projects.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _own_partners(user, project: Project):
    """The user's institutions taking part in the project (for "on behalf of")."""
    taking_part = set(project.participations.values_list("partner_id", flat=True))
    taking_part.add(project.lead_unit_id)
    return Partner.objects.filter(pk__in=access.member_partner_ids(user) & taking_part)


@portal_login_required
def project_detail(request, code):
    project = get_object_or_404(
        access.visible_projects(request.user, Project.objects.with_relations()), code=code
    )
    can_post = (
        access.can_post_progress(request.user, project)
        and project.status in services.PROGRESS_STATUSES
    )
    partners = list(_own_partners(request.user, project)) if can_post else []
    form = ProgressForm(request.POST or None, partners=partners) if can_post else None
    if request.method == "POST":
        if form is None:
            messages.error(request, _("Progress cannot be posted on this project now."))
            return redirect("portal:project", code=project.code)
        if form.is_valid():
            try:
                services.progress_post(
                    project=project,
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    reported_on=form.cleaned_data["reported_on"],
                    partner=form.cleaned_data.get("partner"),
                )
            except InvalidData as error:
                for field, errors in error.errors.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Progress update posted."))
                return redirect("portal:project", code=project.code)
    # The portal shows the partner projection whoever looks (it is the partners' view).
    timeline = [e for e in project_history(project, partner_view=True) if e["kind"] == "transition"]
    decisions = project.support_decisions.order_by("-decided_on", "-pk")
    updates = project.progress_updates.select_related("partner", "author").order_by(
        "-reported_on", "-pk"
    )
    return render(
        request,
        "portal/project.html",
        {
            "project": project,
            "timeline": timeline,
            "decisions": decisions,
            "updates": updates,
            "form": form,
            "results": _results(request.user, project),
        },
    )


# --- Results ------------------------------------------------------------------------------

REPORTABLE = results_services.PERIOD_TRANSITIONS["report"][0]


def _reportable(period: Period, today) -> bool:
    """Whether the report form is offered: the service decides again on submit."""
    return period.status in REPORTABLE and period.period_start <= today


def _results(user, project: Project) -> list[Result]:
    """The project's results, indicators and periods (four queries), each period marked
    `reportable` for this user. Who reported and who approved are staff data and not
    read here."""
    if not results_access.can_view_results(user, project):
        return []
    can_report = results_access.can_report_actuals(user, project)
    today = timezone.localdate()
    results = list(
        Result.objects.filter(project=project)
        .order_by("id")
        .prefetch_related(
            Prefetch("indicators", queryset=Indicator.objects.select_related("standard")),
            Prefetch(
                "indicators__periods", queryset=Period.objects.select_related("reporting_partner")
            ),
        )
    )
    for result in results:
        for indicator in result.indicators.all():
            for period in indicator.periods.all():
                period.reportable = can_report and _reportable(period, today)
    return results


@portal_login_required
def period_report(request, code, pk):
    project = get_object_or_404(access.visible_projects(request.user), code=code)
    period = get_object_or_404(
        Period.objects.select_related("indicator__standard", "indicator__result"),
        pk=pk,
        indicator__result__project=project,
    )
    if not results_access.can_report_actuals(request.user, project):
        messages.error(request, _("You may only report results of projects you take part in."))
        return redirect("portal:project", code=project.code)
    partners = Partner.objects.filter(
        pk__in=results_access.reporting_partner_ids(request.user, project)
    ).order_by("pk")
    # Lead officers report for the office; partners say for which institution.
    if results_access.can_define_results(request.user, project):
        partners = Partner.objects.none()
    initial = {
        "version": project.version,
        "actual_value": period.actual_value,
        "actual_comment": period.actual_comment,
    }
    form = ActualForm(request.POST or None, initial=initial, partners=partners)
    if request.method == "POST" and form.is_valid():
        try:
            results_services.period_report(
                period=period,
                actor=request.user,
                actual_value=form.cleaned_data["actual_value"],
                actual_comment=form.cleaned_data["actual_comment"],
                partner=form.cleaned_data.get("partner"),
                expected_version=form.cleaned_data["version"],
            )
        except InvalidData as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Actual reported; the lead unit will review it."))
            return redirect("portal:project", code=project.code)
    return render(
        request,
        "portal/period_report.html",
        {
            "project": project,
            "period": period,
            "indicator": period.indicator,
            "form": form,
            "reportable": _reportable(period, timezone.localdate()),
        },
        status=400 if request.method == "POST" else 200,
    )
