"""Pool events → staff notifications (after commit; a failure is logged, never raised
into the write that caused it)."""

import logging

from projects import events, workflow
from projects.notifications import services
from projects.risk import warnings

logger = logging.getLogger(__name__)


def on_transition(sender, *, project, status_change, **kwargs) -> None:
    try:
        services.on_transition(project=project, status_change=status_change)
    except Exception:
        logger.exception("notifications for %s failed", project)


def on_project_event(sender, *, project, event, actor=None, **details) -> None:
    if event != events.SUPPORT_DECIDED:
        return
    try:
        services.on_support_decided(
            project=project, decision=details["support_decision"], actor=actor
        )
    except Exception:
        logger.exception("notifications for %s failed", project)


def on_warnings_raised(sender, *, warning_ids, **kwargs) -> None:
    try:
        services.on_warnings_raised(warning_ids=warning_ids)
    except Exception:
        logger.exception("notifications of warnings %s failed", warning_ids[:10])


def connect() -> None:
    workflow.transition_committed.connect(on_transition, dispatch_uid="notify-transition")
    events.project_event.connect(on_project_event, dispatch_uid="notify-project-event")
    warnings.warnings_raised.connect(on_warnings_raised, dispatch_uid="notify-warnings-raised")
