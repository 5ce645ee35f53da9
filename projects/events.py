"""Events of the pool that others listen to (webhooks, staff notifications), sent only
after the transaction that caused them commits. Workflow transitions have their own
signal (`workflow.transition_committed`); these cover the other writes.

Receivers get `project` and `event` ("project.updated", "project.progress_posted",
"project.support_decided") plus `actor` and event details (`changed_fields`,
`progress_update`, `support_decision`)."""

from django.db import transaction
from django.dispatch import Signal

project_event = Signal()

UPDATED = "project.updated"
PROGRESS_POSTED = "project.progress_posted"
SUPPORT_DECIDED = "project.support_decided"


def announce(*, project, event: str, actor=None, **details) -> None:
    """Send `project_event` once the current transaction commits."""

    def send():
        project_event.send(
            sender=type(project), project=project, event=event, actor=actor, **details
        )

    transaction.on_commit(send)
