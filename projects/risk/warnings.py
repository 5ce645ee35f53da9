"""Warnings: each rule finds the causes present now, and `compute_warnings` makes the
live warnings match them. A new cause raises a warning; a warning whose cause is gone is
resolved; a dismissed warning stays dismissed while its cause lasts. Running it twice
changes nothing the second time (idempotent), so the daily job and the events that
recompute one project's warnings can overlap safely.

Each rule is one or two set-based queries over the pool (no per-project loop), so the
daily job's cost grows with the number of warnings, not with queries per project.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from projects.models import (
    CodeSequence,
    Period,
    Project,
    ProjectCountry,
    Status,
    SupportDecision,
)
from projects.risk.models import CountryRisk, CountryRiskLevel, ProjectRisk, Warning

Kind = Warning.Kind
Severity = Warning.Severity

# Projects still on the way: a risk or a date matters for them.
LIVE = (Status.SUBMITTED, Status.SCREENING, Status.SELECTED, Status.IN_PROGRESS, Status.SUSPENDED)
RUNNING = (Status.SELECTED, Status.IN_PROGRESS, Status.SUSPENDED)


def no_progress_days() -> int:
    return int(getattr(settings, "REGISTRY_WARNING_NO_PROGRESS_DAYS", 90))


def dispute_days() -> int:
    return int(getattr(settings, "REGISTRY_WARNING_DISPUTE_DAYS", 180))


def target_share() -> Decimal:
    return Decimal(str(getattr(settings, "REGISTRY_WARNING_TARGET_SHARE", "0.8")))


SUPPORT_EXPIRY_DAYS = 30

# Sent after the commit of a computation that raised new warnings, with `warning_ids`
# (the notifications tell the lead unit's officers). Resolutions and severity changes of
# live warnings are not announced.
warnings_raised = Signal()

# (project id, subject) → (severity, detail)
Causes = dict[tuple[int, str], tuple[int, str]]


def country_risk(projects: QuerySet, today: datetime.date) -> Causes:
    high = CountryRisk.objects.current(today).filter(level__gte=CountryRiskLevel.HIGH)
    levels: dict[str, list[tuple[str, int]]] = {}
    for country_id, category, level in high.values_list("country_id", "category", "level"):
        levels.setdefault(country_id, []).append((category, level))
    if not levels:
        return {}
    links = ProjectCountry.objects.filter(
        project__in=projects.filter(status__in=LIVE), country_id__in=levels
    ).values_list("project_id", "country_id")
    causes = {}
    for project_id, country_id in links:
        for category, level in levels[country_id]:
            severity = (
                Severity.CRITICAL if level >= CountryRiskLevel.VERY_HIGH else Severity.WARNING
            )
            causes[(project_id, f"{country_id}:{category}")] = (
                severity,
                f"{country_id} {category} {CountryRiskLevel(level).name.lower()}",
            )
    return causes


def no_progress(projects: QuerySet, today: datetime.date) -> Causes:
    cutoff = today - datetime.timedelta(days=no_progress_days())
    rows = (
        projects.filter(status=Status.IN_PROGRESS)
        .annotate(last_update=Max("progress_updates__reported_on"))
        .filter(
            Q(last_update__lt=cutoff)
            | Q(last_update__isnull=True, actual_start__lt=cutoff)
            | Q(last_update__isnull=True, actual_start__isnull=True, created_at__date__lt=cutoff)
        )
        .values_list("pk", "last_update")
    )
    return {
        (pk, ""): (Severity.WARNING, f"last update {last or '-'}") for pk, last in rows.iterator()
    }


def support_expiring(projects: QuerySet, today: datetime.date) -> Causes:
    horizon = today + datetime.timedelta(days=SUPPORT_EXPIRY_DAYS)
    # A decision renewed by a later one of the same kind no longer expires.
    renewed = SupportDecision.objects.filter(
        project_id=OuterRef("project_id"), kind=OuterRef("kind"), pk__gt=OuterRef("pk")
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=OuterRef("valid_until")))
    rows = (
        SupportDecision.objects.filter(
            project__in=projects.filter(status__in=(Status.SELECTED, Status.IN_PROGRESS)),
            valid_until__gte=today,
            valid_until__lte=horizon,
        )
        .exclude(Exists(renewed))
        .values_list("project_id", "pk", "valid_until")
    )
    return {
        (project_id, f"decision:{pk}"): (
            Severity.WARNING if (until - today).days <= 7 else Severity.NOTICE,
            f"valid until {until}",
        )
        for project_id, pk, until in rows
    }


def review_overdue(projects: QuerySet, today: datetime.date) -> Causes:
    rows = projects.review_overdue(today).values_list("pk", "next_review_due")
    return {(pk, ""): (Severity.WARNING, f"due {due}") for pk, due in rows.iterator()}


def end_passed(projects: QuerySet, today: datetime.date) -> Causes:
    rows = projects.filter(status__in=RUNNING, planned_end__lt=today).values_list(
        "pk", "planned_end"
    )
    return {(pk, ""): (Severity.WARNING, f"planned end {end}") for pk, end in rows.iterator()}


def under_target(projects: QuerySet, today: datetime.date) -> Causes:
    share = target_share()
    rows = (
        Period.objects.filter(
            indicator__result__project__in=projects.filter(status__in=(*RUNNING, Status.COMPLETED)),
            period_end__lt=today,
            status__in=(Period.State.REPORTED, Period.State.APPROVED),
            indicator__measure="quantitative",
            target_value__gt=0,
            actual_value__isnull=False,
        )
        .filter(
            # Higher is better: under the share of the target; lower is better: over the
            # target by as much.
            Q(indicator__ascending=True, actual_value__lt=F("target_value") * share)
            | Q(indicator__ascending=False, actual_value__gt=F("target_value") / share)
        )
        .values_list("indicator__result__project_id", "pk", "actual_value", "target_value")
    )
    return {
        (project_id, f"period:{pk}"): (
            Severity.WARNING,
            f"actual {actual.normalize():f} / target {target.normalize():f}",
        )
        for project_id, pk, actual, target in rows.iterator()
    }


def dispute_open(projects: QuerySet, today: datetime.date) -> Causes:
    days = dispute_days()
    rows = ProjectRisk.objects.filter(
        project__in=projects,
        kind=ProjectRisk.Kind.DISPUTE,
        status=ProjectRisk.State.OPEN,
        opened_on__lt=today - datetime.timedelta(days=days),
    ).values_list("project_id", "pk", "opened_on")
    return {
        (project_id, f"risk:{pk}"): (
            Severity.CRITICAL if (today - opened).days > 2 * days else Severity.WARNING,
            f"open since {opened}",
        )
        for project_id, pk, opened in rows
    }


@dataclass(frozen=True)
class Rule:
    kind: str
    find: Callable[[QuerySet, datetime.date], Causes]


RULES = (
    Rule(Kind.COUNTRY_RISK, country_risk),
    Rule(Kind.NO_PROGRESS, no_progress),
    Rule(Kind.SUPPORT_EXPIRING, support_expiring),
    Rule(Kind.REVIEW_OVERDUE, review_overdue),
    Rule(Kind.END_PASSED, end_passed),
    Rule(Kind.UNDER_TARGET, under_target),
    Rule(Kind.DISPUTE_OPEN, dispute_open),
)


def _sync(kind: str, causes: Causes, project_ids, now, raised: list[int]) -> dict[str, int]:
    live = Warning.objects.filter(kind=kind, resolved_at__isnull=True)
    if project_ids is not None:
        live = live.filter(project_id__in=project_ids)
    existing = {(w.project_id, w.subject): w for w in live.iterator(chunk_size=5000)}
    resolved, changed = [], []
    for key, warning in existing.items():
        if key not in causes:
            warning.resolved_at = now
            resolved.append(warning)
        elif (warning.severity, warning.detail) != causes[key]:
            warning.severity, warning.detail = causes[key]
            changed.append(warning)
    new = [
        Warning(
            kind=kind,
            project_id=project_id,
            subject=subject,
            severity=severity,
            detail=detail[:300],
            first_seen=now,
            last_seen=now,
        )
        for (project_id, subject), (severity, detail) in causes.items()
        if (project_id, subject) not in existing
    ]
    if resolved:
        bulk_update_with_history(resolved, Warning, ["resolved_at"], batch_size=2000)
    if changed:
        bulk_update_with_history(changed, Warning, ["severity", "detail"], batch_size=2000)
    if new:
        created = bulk_create_with_history(new, Warning, batch_size=2000)
        raised.extend(warning.pk for warning in created)
    live.filter(resolved_at__isnull=True).update(last_seen=now)
    return {"raised": len(new), "resolved": len(resolved), "kept": len(existing) - len(resolved)}


def compute_warnings(
    *,
    today: datetime.date | None = None,
    kinds=None,
    project_ids=None,
) -> dict[str, dict[str, int]]:
    """Bring the live warnings in line with their causes: of every kind (or `kinds`), for
    the whole pool (or the projects `project_ids`). Returns counts per kind."""
    today = today or timezone.localdate()
    now = timezone.now()
    projects = Project.objects.all()
    if project_ids is not None:
        project_ids = list(project_ids)
        projects = projects.filter(pk__in=project_ids)
    counts = {}
    raised: list[int] = []
    with transaction.atomic():
        # One computation at a time: the daily job and the events' recomputations queue
        # behind this row lock instead of raising the same warning twice.
        CodeSequence.objects.get_or_create(name="warnings")
        CodeSequence.objects.select_for_update().get(name="warnings")
        for rule in RULES:
            if kinds is not None and rule.kind not in kinds:
                continue
            counts[rule.kind] = _sync(
                rule.kind, rule.find(projects, today), project_ids, now, raised
            )
        if raised:
            transaction.on_commit(
                lambda: warnings_raised.send(sender=Warning, warning_ids=raised), robust=True
            )
    return counts


def open_counts(projects: QuerySet) -> list[dict]:
    """Open (neither resolved nor dismissed) warnings of the projects, by kind and
    severity, for the dashboard."""
    rows = (
        Warning.objects.filter(
            project__in=projects.order_by().values("pk"),
            resolved_at__isnull=True,
            dismissed_at__isnull=True,
        )
        .values("kind", "severity")
        .annotate(count=Count("pk"))
        .order_by("kind", "severity")
    )
    labels, severities = dict(Kind.choices), dict(Severity.choices)
    return [
        {
            "kind": row["kind"],
            "label": labels[row["kind"]],
            "severity": severities[row["severity"]],
            "count": row["count"],
        }
        for row in rows
    ]


TREND_WEEKS = 12


def open_trend(projects: QuerySet, *, now=None, weeks: int = TREND_WEEKS) -> list[dict]:
    """Open warnings of the projects at the end of each of the last `weeks` ISO weeks
    (Monday to Sunday; the current week counted as of now), oldest first, in one query.
    A warning is open at a moment when it was first seen before it and was neither
    resolved nor dismissed by then."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    this_monday = today - datetime.timedelta(days=today.weekday())
    rows = []
    for back in range(weeks - 1, -1, -1):
        start = this_monday - datetime.timedelta(weeks=back)
        end = timezone.make_aware(
            datetime.datetime.combine(start + datetime.timedelta(days=7), datetime.time.min)
        )
        year, week, _day = start.isocalendar()
        rows.append({"week": f"{year}-W{week:02d}", "start": start, "at": min(end, now)})
    earliest = rows[0]["at"]
    warnings = Warning.objects.filter(
        project__in=projects.order_by().values("pk"), first_seen__lte=now
    ).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=earliest),
        Q(dismissed_at__isnull=True) | Q(dismissed_at__gt=earliest),
    )

    def open_at(moment):
        return Count(
            "pk",
            filter=Q(first_seen__lte=moment)
            & (Q(resolved_at__isnull=True) | Q(resolved_at__gt=moment))
            & (Q(dismissed_at__isnull=True) | Q(dismissed_at__gt=moment)),
        )

    counts = warnings.aggregate(**{f"w{i}": open_at(row["at"]) for i, row in enumerate(rows)})
    for i, row in enumerate(rows):
        row["count"] = counts[f"w{i}"]
    return rows
