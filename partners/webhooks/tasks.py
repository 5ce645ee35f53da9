"""Background task: one delivery attempt (retries are re-enqueued with `run_after`)."""

from django.tasks import task

from partners.webhooks import services


@task
def deliver_webhook(*, delivery_id: int) -> None:
    services.attempt_delivery(delivery_id=delivery_id)
