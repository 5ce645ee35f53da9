"""Webhook endpoints, deliveries (one per event and endpoint) and their attempts."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.validators import validate_no_control_characters


class EventType(models.TextChoices):
    STATUS_CHANGED = "project.status_changed", _("project status changed")
    PROGRESS_POSTED = "project.progress_posted", _("progress update posted")
    SUPPORT_DECIDED = "project.support_decided", _("support decided")
    UPDATED = "project.updated", _("project data updated")


# Sent by the "send test event" button only; not something an endpoint subscribes to.
TEST_EVENT = "webhook.test"


class WebhookEndpoint(models.Model):
    """A URL that receives the events its owner chose, signed with its secret. Endpoints
    are deactivated, never deleted: their delivery log stays."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("owner"),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(
        _("description"), max_length=200, blank=True, validators=[validate_no_control_characters]
    )
    event_types = models.JSONField(_("event types"), default=list)
    # Needed in clear to sign each delivery (HMAC); shown to the owner once, never again.
    secret = models.CharField(_("secret"), max_length=80, editable=False)
    active = models.BooleanField(_("active"), default=True)
    # Set at the first failed attempt after a success; cleared by the next success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("reason disabled"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint. The body is fixed when the event happens, so every
    retry sends the same bytes under the same event id."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event type"), max_length=40)
    body = models.TextField(_("body"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery (append-only): the log shows each status code."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
