"""Warnings: each rule finds the causes present now, and `compute_warnings` makes the
live warnings match them. A new cause raises a warning; a warning whose cause is gone is
resolved; a dismissed warning stays dismissed while its cause lasts. Running it twice
changes nothing the second time (idempotent), so the daily job and the events that
recompute one project's warnings can overlap safely.

Set-based, in chunks of the pool: for each rule and each range of project ids, one query
returns the causes as (project id, subject, severity, params) and one reads the live
warnings of that kind there as plain tuples; a keyed diff of the two says what to raise,
resolve or change, and each of those is written with a few statements (an UPDATE per
distinct new value, a bulk INSERT) plus its simple-history rows. Memory is bounded by a
chunk's warnings, the number of statements by the number of chunks, whatever the pool.
"""

import datetime
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone, translation

from projects.models import (
    CodeSequence,
    Period,
    Project,
    ProjectCountry,
    Status,
    SupportDecision,
)
from projects.reporting.stats import rows_of
from projects.risk.details import describe, english, figure, iso
from projects.risk.models import CountryRisk, CountryRiskLevel, ProjectRisk, Warning

Kind = Warning.Kind
Severity = Warning.Severity

# Projects still on the way: a risk or a date matters for them.
LIVE = (Status.SUBMITTED, Status.SCREENING, Status.SELECTED, Status.IN_PROGRESS, Status.SUSPENDED)
RUNNING = (Status.SELECTED, Status.IN_PROGRESS, Status.SUSPENDED)

# Project ids per chunk of the daily job: a chunk's causes and live warnings of one kind
# are held in memory at once (a few per project at most). Statements per run grow with
# pool / CHUNK_PROJECTS.
CHUNK_PROJECTS = 20_000
# Rows per INSERT and ids per `IN (…)` (SQLite's limit on parameters is 32,766).
WRITE_BATCH = 2_000


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

# (project id, subject, severity, params): a cause present now.
Cause = tuple[int, str, int, dict]


@dataclass(frozen=True)
class Scope:
    """The projects one query covers: a range of ids (the daily job, chunk by chunk) or a
    list of ids (an event's recomputation)."""

    start: int = 0
    stop: int = 0
    ids: tuple[int, ...] | None = None

    def q(self, path: str) -> Q:
        """The condition on a project id reached by `path` from the queried model."""
        if self.ids is not None:
            return Q(**{f"{path}__in": self.ids})
        return Q(**{f"{path}__gte": self.start, f"{path}__lt": self.stop})


def country_risk(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    # The register in force is a few rows per country: read once, then one query over
    # the projects' country links.
    high = CountryRisk.objects.current(today).filter(level__gte=CountryRiskLevel.HIGH)
    levels: dict[str, list[tuple[str, int, str, str]]] = {}
    for country_id, category, level, name_zh, name_en in high.values_list(
        "country_id", "category", "level", "country__name_zh", "country__name_en"
    ):
        levels.setdefault(country_id, []).append((category, level, name_zh, name_en))
    if not levels:
        return
    links = (
        ProjectCountry.objects.filter(
            scope.q("project_id"), project__status__in=LIVE, country_id__in=levels
        )
        .order_by()
        .values_list("project_id", "country_id")
    )
    for project_id, country_id in links:
        for category, level, name_zh, name_en in levels[country_id]:
            severity = (
                Severity.CRITICAL if level >= CountryRiskLevel.VERY_HIGH else Severity.WARNING
            )
            params = {
                "country": country_id,
                "country_zh": name_zh,
                "country_en": name_en,
                "category": category,
                "level": level,
            }
            yield project_id, f"{country_id}:{category}", severity, params


def no_progress(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    cutoff = today - datetime.timedelta(days=no_progress_days())
    rows = (
        Project.objects.filter(scope.q("pk"), status=Status.IN_PROGRESS)
        .annotate(last_update=Max("progress_updates__reported_on"))
        .filter(
            Q(last_update__lt=cutoff)
            | Q(last_update__isnull=True, actual_start__lt=cutoff)
            | Q(last_update__isnull=True, actual_start__isnull=True, created_at__date__lt=cutoff)
        )
        .order_by()
        .values_list("pk", "last_update")
    )
    for pk, last in rows:
        yield pk, "", Severity.WARNING, {"last_update": iso(last)}


def support_expiring(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    horizon = today + datetime.timedelta(days=SUPPORT_EXPIRY_DAYS)
    # A decision renewed by a later one of the same kind no longer expires.
    renewed = SupportDecision.objects.filter(
        project_id=OuterRef("project_id"), kind=OuterRef("kind"), pk__gt=OuterRef("pk")
    ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=OuterRef("valid_until")))
    rows = (
        SupportDecision.objects.filter(
            scope.q("project_id"),
            project__status__in=(Status.SELECTED, Status.IN_PROGRESS),
            valid_until__gte=today,
            valid_until__lte=horizon,
        )
        .exclude(Exists(renewed))
        .order_by()
        .values_list("project_id", "pk", "valid_until")
    )
    for project_id, pk, until in rows:
        severity = Severity.WARNING if (until - today).days <= 7 else Severity.NOTICE
        yield project_id, f"decision:{pk}", severity, {"valid_until": iso(until)}


def review_overdue(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    rows = (
        Project.objects.filter(scope.q("pk"))
        .review_overdue(today)
        .order_by()
        .values_list("pk", "next_review_due")
    )
    for pk, due in rows:
        yield pk, "", Severity.WARNING, {"due": iso(due)}


def end_passed(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    rows = (
        Project.objects.filter(scope.q("pk"), status__in=RUNNING, planned_end__lt=today)
        .order_by()
        .values_list("pk", "planned_end")
    )
    for pk, end in rows:
        yield pk, "", Severity.WARNING, {"planned_end": iso(end)}


def under_target(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    share = target_share()
    rows = (
        Period.objects.filter(
            scope.q("indicator__result__project_id"),
            indicator__result__project__status__in=(*RUNNING, Status.COMPLETED),
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
        .order_by()
        .values_list("indicator__result__project_id", "pk", "actual_value", "target_value")
    )
    for project_id, pk, actual, target in rows:
        params = {"actual": figure(actual), "target": figure(target)}
        yield project_id, f"period:{pk}", Severity.WARNING, params


def dispute_open(scope: Scope, today: datetime.date) -> Iterator[Cause]:
    days = dispute_days()
    rows = (
        ProjectRisk.objects.filter(
            scope.q("project_id"),
            kind=ProjectRisk.Kind.DISPUTE,
            status=ProjectRisk.State.OPEN,
            opened_on__lt=today - datetime.timedelta(days=days),
        )
        .order_by()
        .values_list("project_id", "pk", "opened_on")
    )
    for project_id, pk, opened in rows:
        severity = Severity.CRITICAL if (today - opened).days > 2 * days else Severity.WARNING
        yield project_id, f"risk:{pk}", severity, {"opened_on": iso(opened)}


@dataclass(frozen=True)
class Rule:
    kind: str
    find: Callable[[Scope, datetime.date], Iterable[Cause]]


RULES = (
    Rule(Kind.COUNTRY_RISK, country_risk),
    Rule(Kind.NO_PROGRESS, no_progress),
    Rule(Kind.SUPPORT_EXPIRING, support_expiring),
    Rule(Kind.REVIEW_OVERDUE, review_overdue),
    Rule(Kind.END_PASSED, end_passed),
    Rule(Kind.UNDER_TARGET, under_target),
    Rule(Kind.DISPUTE_OPEN, dispute_open),
)


def _scopes(project_ids: list[int] | None) -> Iterator[Scope]:
    if project_ids is not None:
        ids = sorted(set(project_ids))
        for offset in range(0, len(ids), CHUNK_PROJECTS):
            yield Scope(ids=tuple(ids[offset : offset + CHUNK_PROJECTS]))
        return
    # Every warning belongs to a project (PROTECT), so the projects' id range covers them.
    bounds = Project.objects.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return
    for start in range(bounds["first"], bounds["last"] + 1, CHUNK_PROJECTS):
        yield Scope(start=start, stop=start + CHUNK_PROJECTS)


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for offset in range(0, len(ids), WRITE_BATCH):
        yield ids[offset : offset + WRITE_BATCH]


def _write_history(ids: list[int], history_type: str, now) -> None:
    """The simple-history rows of the warnings `ids` as they now are, with the fields
    `bulk_create_with_history` / `bulk_update_with_history` give them (date `now`, no
    user, no reason, `+` or `~`), copied by one INSERT … SELECT per batch. With a
    history instance built per warning in Python the first run at 100,000 warnings took
    238 s, with this 71 s (bench/README.md). The tracked columns are the historical
    table's own fields but its `history_*` ones, read from the models' `_meta`."""
    history = Warning.history.model
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    columns = [
        field.column
        for field in history._meta.concrete_fields
        if not field.name.startswith("history_")
    ]
    tracked = ", ".join(quote(column) for column in columns)
    for batch in _batches(ids):
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({tracked}, "
                f"{quote('history_date')}, {quote('history_type')}) "
                f"SELECT {tracked}, %s, %s FROM {quote(Warning._meta.db_table)} "
                f"WHERE {quote('id')} IN ({', '.join(['%s'] * len(batch))})",
                [now, history_type, *batch],
            )


def _record_updates(ids: list[int], now, **values) -> None:
    """Set `values` on the warnings `ids` and write their history rows."""
    for batch in _batches(ids):
        Warning.objects.filter(pk__in=batch).order_by().update(**values)
        _write_history(batch, "~", now)


def _sync_chunk(kind: str, rule: Rule, scope: Scope, today, now, raised: list[int]):
    causes: dict[tuple[int, str], tuple[int, dict]] = {
        (project_id, subject): (severity, params)
        for project_id, subject, severity, params in rule.find(scope, today)
    }
    live = Warning.objects.filter(scope.q("project_id"), kind=kind, resolved_at__isnull=True)
    resolved: list[int] = []
    kept = 0
    # (severity, params) → warnings to change to them: one UPDATE per distinct value.
    changed: dict[tuple[int, str], list[int]] = defaultdict(list)
    changed_to: dict[tuple[int, str], tuple[int, dict]] = {}
    for pk, project_id, subject, severity, params in live.order_by().values_list(
        "pk", "project_id", "subject", "severity", "params"
    ):
        cause = causes.pop((project_id, subject), None)
        if cause is None:
            resolved.append(pk)
            continue
        kept += 1
        if (severity, params) != cause:
            key = (cause[0], json.dumps(cause[1], sort_keys=True))
            changed[key].append(pk)
            changed_to[key] = cause
    if resolved:
        _record_updates(resolved, now, resolved_at=now)
    for key, ids in changed.items():
        severity, params = changed_to[key]
        _record_updates(ids, now, severity=severity, params=params, detail=english(kind, params))
    # What is still live now is what was kept (the resolved are no longer, the new not yet).
    live.order_by().update(last_seen=now)
    with translation.override("en"):
        new = [
            Warning(
                kind=kind,
                project_id=project_id,
                subject=subject,
                severity=severity,
                params=params,
                detail=describe(kind, params)[:300],
                first_seen=now,
                last_seen=now,
            )
            for (project_id, subject), (severity, params) in causes.items()
        ]
    for offset in range(0, len(new), WRITE_BATCH):
        created = [
            warning.pk
            for warning in Warning.objects.bulk_create(
                new[offset : offset + WRITE_BATCH], batch_size=WRITE_BATCH
            )
        ]
        _write_history(created, "+", now)
        raised.extend(created)
    return len(new), len(resolved), kept


def _sync(kind: str, rule: Rule, project_ids, today, now, raised: list[int]) -> dict[str, int]:
    counts = {"raised": 0, "resolved": 0, "kept": 0}
    for scope in _scopes(project_ids):
        new, resolved, kept = _sync_chunk(kind, rule, scope, today, now, raised)
        counts["raised"] += new
        counts["resolved"] += resolved
        counts["kept"] += kept
    return counts


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
    if project_ids is not None:
        project_ids = list(project_ids)
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
            counts[rule.kind] = _sync(rule.kind, rule, project_ids, today, now, raised)
        if raised:
            transaction.on_commit(
                lambda: warnings_raised.send(sender=Warning, warning_ids=raised), robust=True
            )
    return counts


def open_counts(projects: QuerySet | None = None) -> list[dict]:
    """Open (neither resolved nor dismissed) warnings of the projects, by kind and
    severity, for the dashboard."""
    rows = (
        rows_of(
            Warning.objects.filter(resolved_at__isnull=True, dismissed_at__isnull=True),
            "project_id",
            projects,
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


def open_trend(
    projects: QuerySet | None = None, *, now=None, weeks: int = TREND_WEEKS
) -> list[dict]:
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
    warnings = rows_of(Warning.objects.filter(first_seen__lte=now), "project_id", projects).filter(
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
