"""Pool events → webhook deliveries. For each active endpoint subscribed to the event
whose owner may see the project (`access.visible_projects`), the body carries the
project in the API's partner projection: a webhook body leaves the office, so no
staff-only field is ever in it, whoever owns the endpoint. Labels are in the owner's
language (their choice, else the office's default), never in whatever language the
thread that committed the write happened to have active."""

import logging

from django.db import transaction
from django.utils import translation

from partners.webhooks import services as webhooks
from partners.webhooks.models import EventType, WebhookEndpoint
from projects import events, workflow
from projects.api import representation
from projects.api.serializers import STAFF_ONLY_FIELDS
from registry.preferences import user_language

logger = logging.getLogger(__name__)


def _subscribers(event_type: str) -> list[WebhookEndpoint]:
    # Few endpoints, and JSON containment is not portable to SQLite: filter here.
    endpoints = WebhookEndpoint.objects.filter(active=True, owner__is_active=True)
    return [e for e in endpoints.select_related("owner") if event_type in e.event_types]


def publish(*, project, event_type: str, extra: dict | None = None) -> int:
    """Record one delivery per subscribed endpoint that may see the project."""
    seen: dict[int, dict | None] = {}
    count = 0
    with transaction.atomic():
        for endpoint in _subscribers(event_type):
            owner_id = endpoint.owner_id
            if owner_id not in seen:
                with translation.override(user_language(endpoint.owner)):
                    seen[owner_id] = representation.partner_project(endpoint.owner, project.pk)
            data = seen[owner_id]
            if data is None:
                continue
            webhooks.delivery_create(
                endpoint=endpoint, event_type=event_type, data={"project": data, **(extra or {})}
            )
            count += 1
    return count


def _safely(function, **kwargs) -> None:
    # Runs after the write committed: a failure here must not turn the write into an error.
    try:
        function(**kwargs)
    except Exception:
        logger.exception("webhook events for project %s failed", kwargs.get("project"))


def on_transition(sender, *, project, status_change, transition, **kwargs) -> None:
    extra = {
        "status_change": {
            "from_status": status_change.from_status or None,
            "to_status": status_change.to_status,
            "at": status_change.created_at.isoformat(),
        }
    }
    _safely(publish, project=project, event_type=EventType.STATUS_CHANGED, extra=extra)


def on_project_event(sender, *, project, event, **details) -> None:
    extra = {}
    if event == events.UPDATED:
        # A change to staff-only fields alone is not news to a partner.
        changed = set(details.get("changed_fields") or ())
        if changed and changed <= set(STAFF_ONLY_FIELDS) | {"risk_level", "next_review_due"}:
            return
    elif event == events.PROGRESS_POSTED:
        extra["progress_update"] = representation.progress_update(details["progress_update"])
    elif event == events.SUPPORT_DECIDED:
        extra["support_decision"] = representation.partner_support_decision(
            details["support_decision"]
        )
    _safely(publish, project=project, event_type=event, extra=extra)


def connect() -> None:
    workflow.transition_committed.connect(on_transition, dispatch_uid="webhooks-transition")
    events.project_event.connect(on_project_event, dispatch_uid="webhooks-project-event")
