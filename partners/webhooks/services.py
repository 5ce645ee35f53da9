"""Writes for webhooks: registering, disabling and enabling endpoints, recording events
for delivery and each attempt's outcome. Keyword-only and atomic, like every service."""

import json
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partners.webhooks import security, signing
from partners.webhooks.models import (
    TEST_EVENT,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from registry.preferences import user_language

logger = logging.getLogger(__name__)
SECRET_PREFIX = "whsec_"
MAX_ENDPOINTS_PER_USER = 20


class WebhookError(ValueError):
    """Bad input for an endpoint: `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _clean_event_types(event_types) -> list[str]:
    chosen = [value for value in EventType.values if value in set(event_types or ())]
    if not chosen or len(chosen) != len(set(event_types)):
        raise WebhookError({"event_types": [_("Choose one or more of the listed events.")]})
    return chosen


@transaction.atomic
def endpoint_create(
    *, owner, url: str, event_types, description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret (to be shown once)."""
    errors = {}
    url = (url or "").strip()
    try:
        security.check_url(url)
    except security.UnsafeURL as error:
        errors["url"] = [str(error)]
    try:
        event_types = _clean_event_types(event_types)
    except WebhookError as error:
        errors.update(error.errors)
    if WebhookEndpoint.objects.filter(owner=owner, active=True).count() >= MAX_ENDPOINTS_PER_USER:
        errors.setdefault("url", []).append(
            _("You have %(count)d active endpoints, the most allowed.")
            % {"count": MAX_ENDPOINTS_PER_USER}
        )
    if errors:
        raise WebhookError(errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        owner=owner,
        url=url,
        event_types=event_types,
        description=(description or "").strip()[:200],
        secret=secret,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_deactivate(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to an endpoint (its owner's choice, or 24 h of failures); pending
    deliveries are marked failed."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.active:
        return
    endpoint.active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = reason[:200]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    endpoint.deliveries.filter(state=WebhookDelivery.State.PENDING).update(
        state=WebhookDelivery.State.FAILED, next_attempt_at=None
    )


@transaction.atomic
def endpoint_activate(*, endpoint: WebhookEndpoint) -> None:
    """Send to an endpoint again after it was disabled; its URL is checked again."""
    try:
        security.check_url(endpoint.url)
    except security.UnsafeURL as error:
        raise WebhookError({"url": [str(error)]}) from None
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        active=True, disabled_at=None, disabled_reason="", failing_since=None
    )


def event_body(*, event_id, event_type: str, data: dict, at=None) -> str:
    """The JSON body of an event: id, type, time and the event's data."""
    at = at or timezone.now()
    return json.dumps(
        {"id": str(event_id), "type": event_type, "created_at": at.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def delivery_create(*, endpoint: WebhookEndpoint, event_type: str, data: dict) -> WebhookDelivery:
    """Record an event for an endpoint and send it once the transaction commits."""
    delivery = WebhookDelivery(endpoint=endpoint, event_type=event_type)
    delivery.body = event_body(event_id=delivery.event_id, event_type=event_type, data=data)
    delivery.save()
    transaction.on_commit(lambda: enqueue(delivery))
    return delivery


def send_test_event(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    return delivery_create(
        endpoint=endpoint,
        event_type=TEST_EVENT,
        data={"message": "This is a test event from the registry."},
    )


def enqueue(delivery: WebhookDelivery, run_after=None) -> None:
    from partners.webhooks.tasks import deliver_webhook

    task = deliver_webhook
    if run_after is not None:
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id=delivery.pk)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2*base, 4*base... after the 1st, 2nd, 3rd failure."""
    return timedelta(seconds=settings.REGISTRY_WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1))


def _signed_headers(delivery: WebhookDelivery, body: bytes) -> dict:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "registry-webhooks/1",
        "Registry-Event-Id": str(delivery.event_id),
        "Registry-Event-Type": delivery.event_type,
        signing.SIGNATURE_HEADER: signing.sign(delivery.endpoint.secret, timestamp, body),
    }


def attempt_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt: POST the signed body; record the outcome; on failure schedule the next
    attempt with exponential backoff while the event is under 24 h old, and disable the
    endpoint (telling its owner) once it has failed for 24 h."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint", "endpoint__owner")
        .filter(pk=delivery_id, state=WebhookDelivery.State.PENDING)
        .first()
    )
    if delivery is None or not delivery.endpoint.active:
        return None
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code, _answer = security.post(endpoint.url, body, _signed_headers(delivery, body))
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except security.UnsafeURL as refused:
        error = str(refused)
    except Exception as failure:  # any network failure is a failed attempt
        error = f"{type(failure).__name__}: {failure}"
    duration = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    window = timedelta(hours=settings.REGISTRY_WEBHOOK_RETRY_HOURS)

    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery, status_code=status_code, error=error[:300], duration_ms=duration
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error[:300]
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not error:
            delivery.state = WebhookDelivery.State.DELIVERED
            delivery.next_attempt_at = None
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
        else:
            if endpoint.failing_since is None:
                endpoint.failing_since = now
                endpoint.save(update_fields=["failing_since"])
            next_at = now + retry_delay(delivery.attempts)
            if next_at - delivery.created_at <= window and delivery.event_type != TEST_EVENT:
                delivery.next_attempt_at = next_at
            else:
                delivery.state = WebhookDelivery.State.FAILED
                delivery.next_attempt_at = None
        delivery.save(
            update_fields=["attempts", "last_status_code", "last_error", "state", "next_attempt_at"]
        )
        if error and now - endpoint.failing_since >= window:
            endpoint_deactivate(endpoint=endpoint, reason=_("Deliveries failed for 24 hours."))
            delivery.state = WebhookDelivery.State.FAILED
            delivery.next_attempt_at = None
            transaction.on_commit(lambda: _tell_owner_disabled(endpoint))
        elif delivery.next_attempt_at is not None:
            retry_at = delivery.next_attempt_at
            transaction.on_commit(lambda: _enqueue_retry(delivery, retry_at))
    return delivery


def _enqueue_retry(delivery: WebhookDelivery, run_after) -> None:
    """Re-enqueue with `run_after`. A backend that cannot defer (the immediate one, in
    development) leaves it due: `manage.py send_due_webhooks` sends it later."""
    from partners.webhooks.tasks import deliver_webhook

    if deliver_webhook.get_backend().supports_defer:
        enqueue(delivery, run_after=run_after)


def send_due(*, now=None) -> int:
    """Attempt every pending delivery whose next attempt is due (for backends that cannot
    defer, and after a worker outage)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.PENDING,
            endpoint__active=True,
            next_attempt_at__lte=now,
        ).values_list("pk", flat=True)
    )
    for delivery_id in due:
        attempt_delivery(delivery_id=delivery_id)
    return len(due)


def _tell_owner_disabled(endpoint: WebhookEndpoint) -> None:
    owner = endpoint.owner
    if not owner.email:
        return
    with translation.override(user_language(owner)):
        subject = _("Webhook endpoint disabled")
        message = _(
            "Deliveries to %(url)s have failed for 24 hours, so the registry stopped "
            "sending to it. Fix the receiver, then enable it again on %(link)s."
        ) % {"url": endpoint.url, "link": f"{settings.REGISTRY_BASE_URL}/portal/webhooks/"}
    try:
        send_mail(subject, message, None, [owner.email])
    except Exception:
        # The endpoint is disabled either way; a mail server outage must not undo that.
        logger.exception("could not tell %s that endpoint %s was disabled", owner, endpoint.pk)
