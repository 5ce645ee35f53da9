"""The warnings job's writes: the history rows of a warning raised, changed and resolved
(as simple-history's bulk functions wrote them: `+` then `~`, the run's time, no user),
and the same outcome whatever the size of the chunks the pool is read in."""

import datetime

import pytest
from django.utils import timezone

from projects.models import Project, SupportDecision
from projects.risk import warnings as job
from projects.risk.models import Warning
from projects.risk.warnings import compute_warnings
from tests import factories

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def decision(project, manager):
    Project.objects.filter(pk=project.pk).update(status="in_progress")
    return SupportDecision.objects.create(
        project=project,
        kind="funding",
        decided_by=manager,
        decided_on=TODAY - 100 * DAY,
        valid_until=TODAY + 20 * DAY,
    )


def test_history_of_a_warning_raised_changed_and_resolved(decision):
    compute_warnings()
    warning = Warning.objects.get(kind="support_expiring")
    assert (warning.severity, warning.params) == (
        Warning.Severity.NOTICE,
        {"valid_until": (TODAY + 20 * DAY).isoformat()},
    )
    assert warning.detail == f"support decision valid until {TODAY + 20 * DAY}"
    # Six days before the end: the same cause, now a warning.
    counts = compute_warnings(today=TODAY + 14 * DAY)
    assert counts["support_expiring"] == {"raised": 0, "resolved": 0, "kept": 1}
    warning.refresh_from_db()
    assert warning.severity == Warning.Severity.WARNING
    # Renewed: the cause is gone.
    SupportDecision.objects.filter(pk=decision.pk).update(valid_until=TODAY + 300 * DAY)
    compute_warnings(today=TODAY + 15 * DAY)
    warning.refresh_from_db()
    assert warning.resolved_at is not None
    rows = list(
        Warning.history.filter(id=warning.pk)
        .order_by("history_id")
        .values_list(
            "history_type", "severity", "resolved_at", "history_user", "history_change_reason"
        )
    )
    assert rows == [
        ("+", Warning.Severity.NOTICE, None, None, None),
        ("~", Warning.Severity.WARNING, None, None, None),
        ("~", Warning.Severity.WARNING, warning.resolved_at, None, None),
    ]
    first, _changed, resolved = Warning.history.filter(id=warning.pk).order_by("history_id")
    assert first.history_date == warning.first_seen
    assert resolved.history_date == warning.resolved_at
    assert first.params == {"valid_until": (TODAY + 20 * DAY).isoformat()}
    # Nothing left to do: a further run writes nothing.
    assert compute_warnings(today=TODAY + 15 * DAY)["support_expiring"] == {
        "raised": 0,
        "resolved": 0,
        "kept": 0,
    }
    assert Warning.history.filter(id=warning.pk).count() == 3


def test_chunks_of_the_pool_change_nothing(monkeypatch, lead_unit):
    overdue = [
        factories.ProjectFactory(
            lead_unit=lead_unit, status="in_progress", next_review_due=TODAY - DAY
        )
        for _ in range(5)
    ]

    def live():
        return sorted(
            (project, kind, subject, sorted(params.items()))
            for project, kind, subject, params in Warning.objects.values_list(
                "project_id", "kind", "subject", "params"
            )
        )

    compute_warnings()
    at_once = live()
    assert {row[0] for row in at_once if row[1] == "review_overdue"} == {p.pk for p in overdue}
    Warning.history.all().delete()
    Warning.objects.all().delete()
    monkeypatch.setattr(job, "CHUNK_PROJECTS", 2)
    monkeypatch.setattr(job, "WRITE_BATCH", 2)
    counts = compute_warnings()
    assert live() == at_once
    assert counts["review_overdue"]["raised"] == 5
    Project.objects.filter(pk__in=[p.pk for p in overdue[:3]]).update(
        next_review_due=TODAY + 30 * DAY
    )
    again = compute_warnings()
    assert again["review_overdue"] == {"raised": 0, "resolved": 3, "kept": 2}
    assert Warning.history.filter(history_type="~").count() == 3
    assert Warning.history.filter(history_type="+").count() == len(at_once)
