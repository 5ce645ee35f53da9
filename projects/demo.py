"""The demonstration data set: fictional institutions and projects modelled on the corridor,
and one demo user per role. Everything is written through the services, so the demo
projects carry the same history, codes and status trail as real ones.

Loading is idempotent: institutions are matched by Chinese name and country, projects by
the demo tag and their Chinese title (the demo key), users by username.
"""

import datetime
import json
import random
import secrets
import string
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from partners.models import Membership, Partner
from projects import services, workflow
from projects.models import Project, Review, Status
from registry.models import Sector
from registry.roles import MANAGER, OFFICER, PARTNER, REVIEWER

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
DEMO_TAG = "演示数据"
SUMMARY_PREFIX_ZH = "【演示数据】"
SUMMARY_PREFIX_EN = "[Demo data] "
DESCRIPTION_PREFIX = "【演示数据·虚构机构 Demo data, fictional institution】"

# The domestic unit the demo officer works for, and the foreign institution the demo
# partner user acts for (it takes part in some demo projects, not in others).
OFFICER_UNIT = ("自治区商务厅", "CN")
PARTNER_INSTITUTION = ("万象物流园区管理公司", "LA")


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str | None  # None: a superuser
    institution: tuple[str, str] | None = None
    is_staff: bool = True


DEMO_USERS = (
    DemoUser("demo-officer", OFFICER, OFFICER_UNIT),
    DemoUser("demo-reviewer", REVIEWER),
    DemoUser("demo-reviewer2", REVIEWER),
    DemoUser("demo-manager", MANAGER),
    DemoUser("demo-admin", None),
    # Partners use the API, not the admin.
    DemoUser("demo-partner", PARTNER, PARTNER_INSTITUTION, is_staff=False),
)

# --- The way from draft to each status --------------------------------------------------
# Each step is a workflow action (projects.services.project_transition), or one of two
# pseudo-steps: REVIEWS (both demo reviewers record a review recommending the outcome
# that follows) and SUPPORT (the manager grants the support given in the data).
REVIEWS = "reviews"
SUPPORT = "support"

_TO_SELECTED = ("submit", "start_screening", REVIEWS, "select")
_TO_IN_PROGRESS = (*_TO_SELECTED, SUPPORT, "start_implementation")
_TO_COMPLETED = (*_TO_IN_PROGRESS, "complete")
PATHS: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (),
    Status.SUBMITTED: ("submit",),
    Status.SCREENING: ("submit", "start_screening"),
    Status.SELECTED: _TO_SELECTED,
    Status.NOT_SELECTED: ("submit", "start_screening", REVIEWS, "not_select"),
    Status.IN_PROGRESS: _TO_IN_PROGRESS,
    Status.COMPLETED: _TO_COMPLETED,
    Status.SUSPENDED: (*_TO_IN_PROGRESS, "suspend"),
    Status.WITHDRAWN: ("submit", "withdraw"),
    Status.ARCHIVED: (*_TO_COMPLETED, "archive"),
}
# The status each action leads to; used to resume a path from where a project stands.
ACTION_RESULT = {
    "submit": Status.SUBMITTED,
    "start_screening": Status.SCREENING,
    "select": Status.SELECTED,
    "not_select": Status.NOT_SELECTED,
    "start_implementation": Status.IN_PROGRESS,
    "complete": Status.COMPLETED,
    "suspend": Status.SUSPENDED,
    "withdraw": Status.WITHDRAWN,
    "archive": Status.ARCHIVED,
}
# Who takes each action: the lead unit's side ("officer": the demo officer for projects
# of their unit, the demo administrator for other units') or the manager.
ACTION_ACTOR = {
    "submit": OFFICER,
    "withdraw": OFFICER,
    "start_implementation": OFFICER,
    "complete": OFFICER,
    "start_screening": MANAGER,
    "select": MANAGER,
    "not_select": MANAGER,
    "suspend": MANAGER,
    "archive": MANAGER,
}
TRANSITION_REASON = "演示数据。推进到示例状态。Demo data: moved to its sample status."
# Scores given by the two demo reviewers, by the recommendation they make.
REVIEW_SCORES = {
    "select": (dict.fromkeys(Review.CRITERIA, 4), dict.fromkeys(Review.CRITERIA, 5)),
    "not_select": (dict.fromkeys(Review.CRITERIA, 2), dict.fromkeys(Review.CRITERIA, 3)),
}


# How long each step plausibly takes after the one before, in days (low, high): the demo
# pool spans two years, so the dashboard's months and median stage times mean something.
SPAN_DAYS = 730
STEP_DAYS = {
    "submit": (5, 30),
    "start_screening": (2, 12),
    "select": (14, 45),
    "not_select": (14, 45),
    "start_implementation": (15, 60),
    "complete": (120, 300),
    "suspend": (30, 120),
    "withdraw": (10, 40),
    "archive": (20, 60),
}


def timeline(
    key: str, index: int, count: int, steps: tuple[str, ...], now: datetime.datetime
) -> tuple[datetime.datetime, list[datetime.datetime | None]]:
    """When a demo project was created and when each step was taken: creations spread
    over the two years, steps spaced by STEP_DAYS (the same every load: seeded by the
    title), squeezed to end a day before `now` when the path is too long for the time
    left. REVIEWS and SUPPORT take no date of their own (None)."""
    rng = random.Random(key)
    start = (
        now
        - datetime.timedelta(days=SPAN_DAYS)
        + datetime.timedelta(days=SPAN_DAYS * index / max(count, 1) * 0.9 + rng.uniform(0, 5))
    )
    offsets, total = [], 0.0
    for step in steps:
        low_high = STEP_DAYS.get(step)
        if low_high is None:
            offsets.append(None)
            continue
        total += rng.uniform(*low_high)
        offsets.append(total)
    room = (now - datetime.timedelta(days=1) - start).total_seconds() / 86400
    scale = min(1.0, room / total) if total else 1.0
    moments = [
        None if offset is None else start + datetime.timedelta(days=offset * scale)
        for offset in offsets
    ]
    return start, moments


def path_to(status: str) -> tuple[str, ...]:
    return PATHS[status]


def remaining_steps(target: str, current: str) -> tuple[str, ...]:
    """The steps of the path to `target` still ahead of a project now in `current`."""
    steps = path_to(target)
    if current == Status.DRAFT:
        return steps
    reached = [i for i, step in enumerate(steps) if ACTION_RESULT.get(step) == current]
    if not reached:
        # The project left the demo path (someone moved it by hand): leave it alone.
        return ()
    return steps[reached[-1] + 1 :]


# --- Reading the files ------------------------------------------------------------------


def read_demo_file(name: str) -> dict:
    with (DEMO_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def demo_partners() -> list[dict]:
    return read_demo_file("partners.json")["partners"]


def demo_projects() -> list[dict]:
    return read_demo_file("projects.json")["projects"]


# --- Loading ----------------------------------------------------------------------------


@dataclass
class DemoReport:
    partners_created: int = 0
    projects_created: int = 0
    steps_taken: int = 0
    sites_created: int = 0
    users_created: list[tuple[str, str, str]] = field(default_factory=list)


@transaction.atomic
def load_partners(report: DemoReport | None = None) -> dict[str, Partner]:
    """Create the demo institutions that are missing; existing ones are left as they are
    (an administrator may have edited them). Returns them by Chinese name."""
    by_name = {}
    for row in demo_partners():
        partner, created = Partner.objects.get_or_create(
            name_zh=row["name_zh"],
            country_id=row["country"],
            defaults={
                "name_en": row["name_en"],
                "kind": row["kind"],
                "description": (
                    f"{DESCRIPTION_PREFIX}\n{row['description_zh']}\n{row['description_en']}"
                ),
            },
        )
        if created and report is not None:
            report.partners_created += 1
        by_name[row["name_zh"]] = partner
    return by_name


def _new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    alphabet = "".join(c for c in alphabet if c not in "lIO01")
    return "".join(secrets.choice(alphabet) for _ in range(14))


@transaction.atomic
def ensure_demo_users(*, reset_passwords: bool) -> list[tuple[str, str, str]]:
    """Create the demo users (one per role, two reviewers), put each in its group and
    institution, and give a fresh random password to every user created and, with
    `reset_passwords`, to every existing one. Returns (username, role, password) for the
    users whose password was set; "" when it was kept."""
    institutions = load_partners()
    users = get_user_model().objects
    rows = []
    for spec in DEMO_USERS:
        user, created = users.get_or_create(
            username=spec.username, defaults={"email": f"{spec.username}@example.org"}
        )
        user.is_active = True
        user.is_staff = spec.is_staff
        user.is_superuser = spec.role is None
        password = ""
        if created or reset_passwords:
            password = _new_password()
            user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=spec.role)] if spec.role else [])
        if spec.institution:
            name_zh, country = spec.institution
            partner = institutions[name_zh]
            assert partner.country_id == country, spec
            Membership.objects.get_or_create(user=user, partner=partner)
        rows.append((spec.username, spec.role or "superuser", password))
    return rows


def demo_user(username: str):
    return get_user_model().objects.get(username=username)


def _officer_side(project: Project):
    """The demo officer for their own unit's projects, the administrator for others'."""
    officer = demo_user("demo-officer")
    if officer.memberships.filter(partner_id=project.lead_unit_id).exists():
        return officer
    return demo_user("demo-admin")


def _create_project(row: dict, partners: dict[str, Partner], at=None) -> Project:
    lead_unit = partners[row["lead_unit"]]
    data = {
        "title_zh": row["title_zh"],
        "title_en": row["title_en"],
        "summary_zh": SUMMARY_PREFIX_ZH + row["summary_zh"],
        "summary_en": SUMMARY_PREFIX_EN + row["summary_en"],
        "kind": row["kind"],
        "lead_unit": lead_unit,
        "estimated_value": Decimal(row["estimated_value"]),
        "currency": row["currency"],
        "risk_level": row["risk_level"],
        "risk_notes": row.get("risk_notes", ""),
        "support_requested": row.get("support_requested", ""),
    }
    # Actual dates and the review date are facts of later statuses (the editable-fields
    # table): `_record_later_facts` sets them once the project has reached its status.
    for name in ("planned_start", "planned_end"):
        if row.get(name):
            data[name] = row[name]
    sector_ids = dict(Sector.objects.values_list("code", "pk"))
    probe = Project(lead_unit=lead_unit)
    return services.project_create(
        actor=_officer_side(probe),
        data=data,
        countries=[
            services.CountryShare(iso2, None if share is None else Decimal(share))
            for iso2, share in row["countries"]
        ],
        sectors=[
            services.SectorShare(sector_ids[code], None if share is None else Decimal(share))
            for code, share in row["sectors"]
        ],
        participations=[
            services.PartnerRole(partners[name].pk, role) for name, role in row["partners"]
        ],
        tags=[DEMO_TAG, *row.get("tags", [])],
        at=at,
    )


def _record_later_facts(project: Project, row: dict) -> Project:
    """The sample's actual dates (by the lead unit) and review date (by the manager),
    where the project's status lets them be set."""
    for actor, names in (
        (_officer_side(project), ("actual_start", "actual_end")),
        (demo_user("demo-manager"), ("next_review_due",)),
    ):
        allowed = workflow.editable_fields(actor, project)
        data = {
            name: datetime.date.fromisoformat(str(row[name]))
            for name in names
            if row.get(name) and name in allowed
        }
        if data:
            project, _changed = services.project_update(actor=actor, project=project, data=data)
    return project


def _take_step(project: Project, step: str, next_step: str | None, row: dict, at=None) -> Project:
    if step == REVIEWS:
        recommendation = next_step
        for reviewer_name, scores in zip(
            ("demo-reviewer", "demo-reviewer2"), REVIEW_SCORES[recommendation], strict=True
        ):
            reviewer = demo_user(reviewer_name)
            project.refresh_from_db()
            if project.reviews.filter(reviewer=reviewer, round=project.screening_round).exists():
                continue
            services.review_record(
                project=project,
                reviewer=reviewer,
                scores=scores,
                recommendation=recommendation,
                conflict_declaration=Review.ConflictDeclaration.NONE,
                comment="演示数据。示例评审意见。Demo data: sample review.",
            )
        return project
    if step == SUPPORT:
        decision = row.get("support_decision")
        if decision and not project.support_decisions.exists():
            services.support_decide(
                project=project,
                actor=demo_user("demo-manager"),
                kind=decision["kind"],
                amount=Decimal(decision["amount"]) if decision.get("amount") else None,
                currency=decision.get("currency", ""),
                conditions=decision.get("conditions", ""),
            )
        return project
    actor = _officer_side(project) if ACTION_ACTOR[step] == OFFICER else demo_user("demo-manager")
    return services.project_transition(
        project=project, actor=actor, action=step, reason=TRANSITION_REASON, at=at
    )


def demo_sites() -> dict[str, list[dict]]:
    return read_demo_file("sites.json")["sites"]


def _add_sites(project: Project, rows: list[dict]) -> int:
    """The demo sites of a project that has none yet (through the sites service)."""
    if not rows or project.sites.exists():
        return 0
    from projects.sites.services import site_add

    actor = _officer_side(project)
    for row in rows:
        site_add(actor=actor, project=project, data=row)
    return len(rows)


def find_demo_project(title_zh: str) -> Project | None:
    return Project.objects.filter(tags__name=DEMO_TAG, title_zh=title_zh).first()


@transaction.atomic
def load_demo(*, drafts_only: bool = False) -> DemoReport:
    """Create the demo institutions and projects that are missing and, unless
    `drafts_only`, move every demo project along its path to its sample status."""
    report = DemoReport()
    partners = load_partners(report)
    needed = {spec.username for spec in DEMO_USERS}
    present = set(
        get_user_model().objects.filter(username__in=needed).values_list("username", flat=True)
    )
    if present != needed:
        report.users_created = [
            row for row in ensure_demo_users(reset_passwords=False) if row[0] not in present
        ]
    sites = demo_sites()
    rows = demo_projects()
    now = timezone.now()
    for position, row in enumerate(rows):
        project = find_demo_project(row["title_zh"])
        # Only a project made in this load gets past dates: one resumed from an earlier
        # load carries on from today, after what it already recorded.
        created, moments = timeline(
            row["title_zh"], position, len(rows), path_to(row["status"]), now
        )
        dated = project is None
        if project is None:
            project = _create_project(row, partners, at=created)
            report.projects_created += 1
        report.sites_created += _add_sites(project, sites.get(row["title_zh"], []))
        if drafts_only:
            continue
        steps = remaining_steps(row["status"], project.status)
        step_moments = moments[len(moments) - len(steps) :] if dated else [None] * len(steps)
        for index, step in enumerate(steps):
            next_step = steps[index + 1] if index + 1 < len(steps) else None
            project = _take_step(project, step, next_step, row, at=step_moments[index])
            report.steps_taken += 1
        if not drafts_only:
            _record_later_facts(project, row)
    return report
