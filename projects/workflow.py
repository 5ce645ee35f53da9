"""The pool's workflow as one table: which action leads from which statuses to which, who
may take it and what must be true first.

`TRANSITIONS` is the single source: `services.project_transition` enforces it, the admin
draws its buttons and bulk actions from it, the API lists it, `manage.py workflow_table`
prints it for the README, and the tests are parametrized over it. Adding a row here adds
its button, its API action and its tests.
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Exists, F, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects import access
from projects.errors import InvalidData, NotAllowed, TransitionNotAllowed
from projects.models import Project, Review, Status, StatusChange
from projects.validation import validate_project_shares
from registry.roles import MANAGER, OFFICER, REVIEWER

# Sent after the transaction of a transition commits (never for a rolled-back one), with
# `project`, `status_change` and `transition`: the hook for notifications.
transition_committed = Signal()

# Target of `resume`: the status the project had when it was suspended.
PREVIOUS_STATUS = "previous"

Guard = Callable[[Project], str | None]


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    requires_reason: bool = False
    guards: tuple[Guard, ...] = ()
    # Field changes that come with the transition (e.g. a new screening round).
    effects: tuple[Callable[[Project], None], ...] = field(default=())
    help_text: str = ""

    def __str__(self) -> str:
        return str(self.label)


# --- Guards: each returns what is missing, or None ---------------------------------------


def has_titles(project: Project) -> str | None:
    """titles in Chinese and English"""
    problems = []
    if not project.title_zh.strip():
        problems.append(gettext("Submit needs the Chinese title."))
    if not project.title_en.strip():
        problems.append(gettext("Submit needs the English title."))
    return " ".join(problems) or None


def has_lead_unit(project: Project) -> str | None:
    """a lead unit"""
    return None if project.lead_unit_id else gettext("Submit needs a lead unit.")


def has_country(project: Project) -> str | None:
    """at least one country"""
    if project.project_countries.exists():
        return None
    return gettext("Submit needs at least one country.")


def has_sector(project: Project) -> str | None:
    """at least one sector"""
    if project.project_sectors.exists():
        return None
    return gettext("Submit needs at least one sector.")


def shares_add_up(project: Project) -> str | None:
    """country and sector shares add up to 100"""
    try:
        validate_project_shares(project)
    except ValidationError as error:
        return " ".join(error.messages)
    return None


def current_round_reviews(project: Project) -> int:
    """The current round's reviews that count: a review whose reviewer declared a conflict
    of interest stays on record but is not one of the reviews the decision rests on."""
    return project.reviews.filter(Review.counted(), round=project.screening_round).count()


def has_enough_reviews(project: Project) -> str | None:
    """REGISTRY_MIN_REVIEWS reviews in the current round without a declared conflict"""
    needed = settings.REGISTRY_MIN_REVIEWS
    count = current_round_reviews(project)
    if count >= needed:
        return None
    return gettext(
        "Select needs %(needed)d reviews in screening round %(round)d; this project has %(count)d."
    ) % {"needed": needed, "round": project.screening_round, "count": count}


# --- Effects -----------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def new_screening_round(project: Project) -> None:
    """screening round + 1"""
    project.screening_round += 1


def schedule_next_review(project: Project) -> None:
    """next review due = today + REGISTRY_REVIEW_INTERVAL_MONTHS"""
    project.next_review_due = add_months(
        timezone.localdate(), settings.REGISTRY_REVIEW_INTERVAL_MONTHS
    )


def record_actual_start(project: Project) -> None:
    """actual start = today if empty"""
    if project.actual_start is None:
        project.actual_start = timezone.localdate()


def record_actual_end(project: Project) -> None:
    """actual end = today if empty"""
    today = timezone.localdate()
    if project.actual_end is None and (
        project.actual_start is None or project.actual_start <= today
    ):
        project.actual_end = today


# --- The table ---------------------------------------------------------------------------

S = Status
TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submit",
        _("submit"),
        sources=(S.DRAFT,),
        target=S.SUBMITTED,
        roles=(OFFICER,),
        guards=(has_titles, has_lead_unit, has_country, has_sector, shares_add_up),
        help_text=_("The lead unit enters its complete draft into the pool."),
    ),
    Transition(
        "start_screening",
        _("start screening"),
        sources=(S.SUBMITTED,),
        target=S.SCREENING,
        roles=(MANAGER,),
        effects=(new_screening_round,),
        help_text=_("Opens a new screening round for reviewers."),
    ),
    Transition(
        "select",
        _("select"),
        sources=(S.SCREENING,),
        target=S.SELECTED,
        roles=(MANAGER,),
        guards=(has_enough_reviews,),
        effects=(schedule_next_review,),
        help_text=_("Needs the minimum number of reviews; schedules the next periodic review."),
    ),
    Transition(
        "not_select",
        _("do not select"),
        sources=(S.SCREENING,),
        target=S.NOT_SELECTED,
        roles=(MANAGER,),
        requires_reason=True,
    ),
    Transition(
        "start_implementation",
        _("start implementation"),
        sources=(S.SELECTED,),
        target=S.IN_PROGRESS,
        roles=(OFFICER, MANAGER),
        effects=(record_actual_start,),
        help_text=_("Records today as the actual start unless one is given."),
    ),
    Transition(
        "complete",
        _("complete"),
        sources=(S.IN_PROGRESS,),
        target=S.COMPLETED,
        roles=(OFFICER, MANAGER),
        effects=(record_actual_end,),
        help_text=_("Records today as the actual end unless one is given."),
    ),
    Transition(
        "suspend",
        _("suspend"),
        sources=(S.SELECTED, S.IN_PROGRESS),
        target=S.SUSPENDED,
        roles=(MANAGER,),
        requires_reason=True,
    ),
    Transition(
        "resume",
        _("resume"),
        sources=(S.SUSPENDED,),
        target=PREVIOUS_STATUS,
        roles=(MANAGER,),
        help_text=_("Back to the status the project had when it was suspended."),
    ),
    Transition(
        "withdraw",
        _("withdraw"),
        sources=(S.DRAFT, S.SUBMITTED, S.SCREENING, S.SELECTED, S.SUSPENDED),
        target=S.WITHDRAWN,
        roles=(OFFICER, MANAGER),
        requires_reason=True,
    ),
    Transition(
        "return_for_revision",
        _("return for revision"),
        sources=(S.SUBMITTED, S.SCREENING),
        target=S.DRAFT,
        roles=(MANAGER,),
        requires_reason=True,
    ),
    Transition(
        "rescreen",
        _("re-screen"),
        sources=(S.SELECTED, S.IN_PROGRESS),
        target=S.SCREENING,
        roles=(MANAGER,),
        effects=(new_screening_round,),
        help_text=_("The periodic review of a project in the pool: a new screening round."),
    ),
    Transition(
        "archive",
        _("archive"),
        sources=(S.NOT_SELECTED, S.COMPLETED, S.WITHDRAWN),
        target=S.ARCHIVED,
        roles=(MANAGER,),
        requires_reason=True,
    ),
)
del S

# The path a project takes through the pool, then the statuses it may leave it by: the
# order of funnels, tables and charts.
PIPELINE_PATH: tuple[str, ...] = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.SCREENING,
    Status.SELECTED,
    Status.IN_PROGRESS,
    Status.COMPLETED,
)
PIPELINE_ORDER: tuple[str, ...] = (
    *PIPELINE_PATH,
    Status.NOT_SELECTED,
    Status.SUSPENDED,
    Status.WITHDRAWN,
    Status.ARCHIVED,
)

BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(BY_NAME)
ACTION_CHOICES = [(t.name, t.label) for t in TRANSITIONS]


def get_transition(action: str) -> Transition:
    try:
        return BY_NAME[action]
    except (KeyError, TypeError):
        raise InvalidData(
            {"action": [gettext("Unknown action “%(action)s”.") % {"action": action}]}
        ) from None


def status_label(status: str) -> str:
    if status == PREVIOUS_STATUS:
        return gettext("the status before suspension")
    return str(Status(status).label)


# --- Who may take a transition -----------------------------------------------------------

# What a role means for one project: an officer acts for the projects its unit leads, a
# manager for the whole pool, a reviewer only where there is no conflict of interest.
_ROLE_RIGHTS = {
    OFFICER: access.can_edit_project,
    MANAGER: lambda user, project: access.can_decide(user),
    REVIEWER: access.can_review,
}


def role_allows(transition: Transition, user, project: Project) -> bool:
    if access.is_superuser(user):
        return True
    roles = access.user_roles(user)
    return any(role in roles and _ROLE_RIGHTS[role](user, project) for role in transition.roles)


def _who(transition: Transition) -> str:
    names = {
        OFFICER: gettext("an officer of the lead unit"),
        MANAGER: gettext("a manager"),
        REVIEWER: gettext("a reviewer"),
    }
    return gettext(" or ").join(names[role] for role in transition.roles)


def check_transition(transition: Transition, project: Project, user, reason: str = "") -> None:
    """Raise the domain error that says why `user` may not take `transition` now."""
    label = str(transition.label)
    if not role_allows(transition, user, project):
        raise NotAllowed(
            gettext("Only %(who)s may %(action)s this project.")
            % {"who": _who(transition), "action": label}
        )
    if project.status not in transition.sources:
        raise TransitionNotAllowed(
            gettext(
                "“%(action)s” is not possible for a project that is %(status)s; "
                "it applies to projects that are %(sources)s."
            )
            % {
                "action": label,
                "status": status_label(project.status),
                "sources": gettext(" or ").join(status_label(s) for s in transition.sources),
            }
        )
    if transition.requires_reason and not (reason or "").strip():
        raise InvalidData(
            {"reason": [gettext("Give a reason to %(action)s.") % {"action": label}]},
            message=gettext("Give a reason to %(action)s.") % {"action": label},
        )
    problems = [message for guard in transition.guards if (message := guard(project))]
    if problems:
        raise TransitionNotAllowed(" ".join(problems))


def resolve_target(transition: Transition, project: Project) -> str:
    if transition.target != PREVIOUS_STATUS:
        return transition.target
    last_suspension = (
        StatusChange.objects.filter(project=project, to_status=Status.SUSPENDED)
        .order_by("-created_at", "-id")
        .values_list("from_status", flat=True)
        .first()
    )
    # A project suspended outside the workflow (e.g. imported) resumes as selected.
    return last_suspension or Status.SELECTED


def available_transitions(project: Project, user) -> list[Transition]:
    """The transitions `user` may take on `project` now: right state, right role, guards
    passing (a reason is asked for on confirmation, so it does not count here)."""
    result = []
    for transition in TRANSITIONS:
        if project.status not in transition.sources or not role_allows(transition, user, project):
            continue
        if any(guard(project) for guard in transition.guards):
            continue
        result.append(transition)
    return result


def transitions_for_role(role: str, status: str | None = None) -> list[Transition]:
    """The transitions a role may take (from `status`, when given), in table order."""
    return [t for t in TRANSITIONS if role in t.roles and (status is None or status in t.sources)]


def transitions_for_user(user) -> list[Transition]:
    """The transitions a user's roles could ever take (for bulk actions and menus)."""
    if access.is_superuser(user):
        return list(TRANSITIONS)
    roles = access.user_roles(user)
    return [t for t in TRANSITIONS if roles & set(t.roles)]


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if status in t.sources]


# --- Who may change which fields, in which status ---------------------------------------

# What a decision was based on: fixed once the project leaves the draft (a manager returns
# it for revision to change it).
DECISION_BASIS = (
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "kind",
    "lead_unit",
    "estimated_value",
    "currency",
    "countries",
    "sectors",
    "participations",
    "support_requested",
    "planned_start",
    "planned_end",
)
IMPLEMENTATION_FACTS = ("actual_start", "actual_end")
STAFF_NOTES = ("risk_level", "risk_notes", "internal_notes", "tags")
S = Status
OPEN_STATUSES = tuple(s for s in S.values if s not in (S.WITHDRAWN, S.ARCHIVED))


@dataclass(frozen=True)
class EditableFields:
    """`roles` may change `fields` of a project that is in one of `statuses`."""

    label: str
    fields: tuple[str, ...]
    statuses: tuple[str, ...]
    roles: tuple[str, ...]


EDITABLE_FIELDS: tuple[EditableFields, ...] = (
    EditableFields(_("what a decision is based on"), DECISION_BASIS, (S.DRAFT,), (OFFICER,)),
    EditableFields(
        _("implementation facts"),
        IMPLEMENTATION_FACTS,
        (S.IN_PROGRESS, S.SUSPENDED, S.COMPLETED),
        (OFFICER,),
    ),
    EditableFields(_("risk, internal notes and tags"), STAFF_NOTES, OPEN_STATUSES, (OFFICER,)),
    EditableFields(
        _("periodic review"),
        ("next_review_due",),
        (S.SELECTED, S.IN_PROGRESS, S.SUSPENDED),
        (MANAGER,),
    ),
)
del S
# Every field some row of the table names: what a project write may touch at all.
TABLE_FIELDS = frozenset(name for row in EDITABLE_FIELDS for name in row.fields)


def _acts_as(role: str, user, project: Project) -> bool:
    if access.is_superuser(user):
        return True
    if role not in access.user_roles(user):
        return False
    if role == OFFICER and project.pk is None:
        # A new project: the officer enters it for one of their own units.
        return access.can_create_project(user, project.lead_unit_id)
    return _ROLE_RIGHTS[role](user, project)


def editable_fields(user, project: Project) -> frozenset[str]:
    """The fields (and lists: countries, sectors, participations, tags) `user` may change
    on `project` in its current status (a new project is a draft). Administrators act
    as every role, within the same statuses: what was decided stays decided."""
    status = project.status if project.pk else Status.DRAFT
    return frozenset(
        name
        for row in EDITABLE_FIELDS
        if status in row.statuses and any(_acts_as(role, user, project) for role in row.roles)
        for name in row.fields
    )


def _field_label(name: str) -> str:
    if name in {"countries", "sectors", "participations"}:
        return {
            "countries": gettext("countries"),
            "sectors": gettext("sectors"),
            "participations": gettext("participations"),
        }[name]
    return str(Project._meta.get_field(name).verbose_name)


def check_editable(user, project: Project, changed) -> None:
    """Raise InvalidData naming each changed field `user` may not change on `project` now,
    and when and by whom it can be changed."""
    allowed = editable_fields(user, project)
    refused = sorted(set(changed) - allowed)
    if not refused:
        return
    status = status_label(project.status if project.pk else Status.DRAFT)
    role_names = {OFFICER: gettext("an officer of the lead unit"), MANAGER: gettext("a manager")}
    errors = {}
    for name in refused:
        row = next((row for row in EDITABLE_FIELDS if name in row.fields), None)
        if row is None:
            errors[name] = [gettext("This field cannot be set.")]
            continue
        errors[name] = [
            gettext(
                "“%(field)s” can be changed only by %(who)s while the project is "
                "%(statuses)s; this project is %(status)s."
            )
            % {
                "field": _field_label(name),
                "who": gettext(" or ").join(role_names[r] for r in row.roles),
                "statuses": gettext(" or ").join(status_label(s) for s in row.statuses),
                "status": status,
            }
        ]
    raise InvalidData(
        errors,
        message=gettext("Some fields cannot be changed while the project is %(status)s.")
        % {"status": status},
    )


def editable_markdown_table() -> str:
    """The editable-fields table as markdown, for the README (`manage.py workflow_table`)."""
    role_names = {OFFICER: "officer (lead unit)", MANAGER: "manager"}
    lines = ["| fields | while the project is | who |", "|---|---|---|"]
    for row in EDITABLE_FIELDS:
        lines.append(
            "| {}: {} | {} | {} |".format(
                row.label,
                ", ".join(f"`{name}`" for name in row.fields),
                ", ".join(f"`{s}`" for s in row.statuses),
                ", ".join(role_names[r] for r in row.roles),
            )
        )
    return "\n".join(lines)


# --- Screening queue ---------------------------------------------------------------------


def screening_queue(user):
    """Projects in screening the user sees, best weighted average score of the current
    round first (unscored last), with the number of reviews and whether the user has
    already reviewed it in this round."""
    # Reviews with a declared conflict of interest count neither in the average nor in
    # the number of reviews (as on the project's decision panel and for `select`).
    in_round = Q(reviews__round=F("screening_round")) & Review.counted("reviews__")
    return (
        access.visible_projects(user, Project.objects.filter(status=Status.SCREENING))
        .select_related("lead_unit")
        .annotate(
            average_score=Avg("reviews__weighted_score", filter=in_round),
            review_count=Count("reviews", filter=in_round),
            reviewed_by_me=Exists(
                Review.objects.filter(
                    project=OuterRef("pk"),
                    reviewer_id=getattr(user, "pk", None),
                    round=OuterRef("screening_round"),
                )
            ),
        )
        .order_by(F("average_score").desc(nulls_last=True), "created_at", "id")
    )


# --- Documentation -----------------------------------------------------------------------


def markdown_table() -> str:
    """The table as markdown, for the README (`manage.py workflow_table`)."""
    role_names = {OFFICER: "officer (lead unit)", MANAGER: "manager", REVIEWER: "reviewer"}
    lines = [
        "| action | from | to | who | reason | requires | also sets |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in TRANSITIONS:
        guards = "; ".join(g.__doc__ for g in t.guards) or ""
        effects = "; ".join(e.__doc__ for e in t.effects) or ""
        lines.append(
            "| `{}` | {} | {} | {} | {} | {} | {} |".format(
                t.name,
                ", ".join(f"`{s}`" for s in t.sources),
                "status before suspension" if t.target == PREVIOUS_STATUS else f"`{t.target}`",
                ", ".join(role_names[r] for r in t.roles),
                "yes" if t.requires_reason else "",
                guards,
                effects,
            )
        )
    return "\n".join(lines)
