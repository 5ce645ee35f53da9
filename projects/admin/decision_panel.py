"""What the project page shows above its fields, for deciding: the status and its
timeline, what `submit` still needs, the current round's reviews side by side (to those
who may see them), the support decisions, and the actions open to the user in words.
Reads only; every action goes through its own page and service."""

from statistics import mean, pstdev

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from projects import access, services, workflow
from projects.models import Review, Status

# What each guard of `submit` checks, said as a checklist item.
CHECKLIST_LABELS = {
    "has_titles": _("a title in Chinese and English"),
    "has_lead_unit": _("a lead unit"),
    "has_country": _("at least one country"),
    "has_sector": _("at least one sector"),
    "shares_add_up": _("shares that add up to 100"),
}


# Each action's meaning, in words: a one-word label ("完成") reads as "done".
MEANINGS = {
    "submit": _("Send the complete draft into the pool for screening."),
    "start_screening": _("Open a screening round: reviewers can now score the project."),
    "select": _("Select the project for support (needs the minimum number of reviews)."),
    "not_select": _("Close screening without selecting the project (a reason is required)."),
    "start_implementation": _("Record that the selected project has started."),
    "complete": _("Mark the project completed."),
    "suspend": _("Pause the project (a reason is required)."),
    "resume": _("Resume the paused project."),
    "withdraw": _("Take the project out of the pool (a reason is required)."),
    "return_for_revision": _("Send the project back to its officer as a draft to revise."),
    "rescreen": _("Screen the project again in a new round."),
    "archive": _("Archive the project: it leaves the active pool."),
}


def submit_checklist(project) -> list[dict]:
    if project.status != Status.DRAFT:
        return []
    items = []
    for guard in workflow.BY_NAME["submit"].guards:
        missing = guard(project)
        items.append(
            {
                "label": CHECKLIST_LABELS.get(guard.__name__, guard.__name__),
                "done": missing is None,
                "missing": missing or "",
            }
        )
    return items


def round_reviews(project, user) -> dict | None:
    """The current round's reviews as columns, criteria as rows, with the average and
    spread (population standard deviation) of the weighted scores. None when the user
    may not see them (officers; reviewers before their own review).

    A review whose reviewer declared a conflict of interest is shown, flagged, with the
    declaration, but left out of the average, the spread and the reviews counted towards
    the minimum: a score given under a conflict should not move the decision, and the
    manager still reads what was said. Reviews recorded before declarations were asked
    ("not asked") count as they did."""
    if project.status != Status.SCREENING and not project.reviews.exists():
        return None
    reviews = list(project.reviews.filter(round=project.screening_round).select_related("reviewer"))
    reviewed_by_me = any(review.reviewer_id == user.pk for review in reviews)
    if not access.sees_whole_pool(user) or not access.sees_round_scores(
        user, reviewed_by_me=reviewed_by_me
    ):
        return None
    counted = [review for review in reviews if not review.conflict_declared]
    scores = [float(review.weighted_score) for review in counted]
    return {
        "round": project.screening_round,
        "reviews": reviews,
        "counted": len(counted),
        "conflicts": len(reviews) - len(counted),
        "criteria": [
            {
                "label": Review._meta.get_field(name).verbose_name,
                "scores": [getattr(review, name) for review in reviews],
            }
            for name in Review.CRITERIA
        ],
        "average": round(mean(scores), 2) if scores else None,
        "spread": round(pstdev(scores), 2) if len(scores) > 1 else None,
        "needed": settings.REGISTRY_MIN_REVIEWS,
    }


def panel(project, user, *, transition_url) -> dict:
    may_decide_support = access.can_decide(user) and project.status in services.SUPPORT_STATUSES
    may_post_progress = project.status in services.PROGRESS_STATUSES and access.can_post_progress(
        user, project
    )
    return {
        "status_label": workflow.status_label(project.status),
        "timeline": list(project.status_changes.select_related("actor").order_by("created_at")),
        "checklist": submit_checklist(project),
        "round": round_reviews(project, user),
        "support": list(project.support_decisions.all()) if access.sees_whole_pool(user) else [],
        "support_add_url": (
            f"{reverse('admin:projects_supportdecision_add')}?project={project.pk}"
            if may_decide_support
            else None
        ),
        "progress": (
            list(project.progress_updates.order_by("-reported_on", "-pk")[:5])
            if may_post_progress
            else []
        ),
        "progress_add_url": (
            f"{reverse('admin:projects_progressupdate_add')}?project={project.pk}"
            if may_post_progress
            else None
        ),
        "actions": [
            {
                "transition": t,
                "url": transition_url(project, t),
                "meaning": MEANINGS.get(t.name, t.help_text),
            }
            for t in workflow.available_transitions(project, user)
        ],
    }
