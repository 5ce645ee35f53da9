"""Webhooks end to end over real HTTP to a local receiver: what a delivery carries (the
partner projection, never a staff-only field), its signature, retries with backoff and
the same event id, disabling after 24 h of failures, the SSRF rules, timeouts and size
limits, and the portal's endpoint pages."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from partners.webhooks import security, services
from partners.webhooks.models import WebhookDelivery, WebhookEndpoint
from projects import services as project_services
from projects.api.serializers import STAFF_ONLY_FIELDS, PartnerProjectDetailSerializer
from projects.history import PARTNER_HIDDEN_FIELDS
from projects.models import Project
from registry.preferences import set_user_language
from tests.webhook_receiver import Receiver

ALL_EVENTS = [
    "project.status_changed",
    "project.progress_posted",
    "project.support_decided",
    "project.updated",
]


@pytest.fixture(autouse=True)
def _local_receivers(settings):
    settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE = True
    settings.REGISTRY_WEBHOOK_ALLOW_HTTP = True
    settings.REGISTRY_WEBHOOK_TIMEOUT = 2


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def selected(project):
    Project.objects.filter(pk=project.pk).update(
        status="selected", internal_notes="INTERNAL-SECRET", risk_notes="RISK-SECRET"
    )
    project.refresh_from_db()
    return project


@pytest.fixture
def endpoint(partner_user, receiver):
    endpoint, secret = services.endpoint_create(
        owner=partner_user, url=receiver.url, event_types=ALL_EVENTS
    )
    endpoint.plain_secret = secret
    return endpoint


def verify(secret: str, request: dict, tolerance=300) -> dict:
    """The README's verification, written out independently of the registry's code."""
    header = request["headers"]["Registry-Signature"]
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    assert abs(time.time() - timestamp) < tolerance
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    return json.loads(request["body"])


def test_status_change_is_delivered_signed_with_the_partner_projection(
    selected, endpoint, receiver, manager, partner_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_transition(
            project=selected, actor=manager, action="start_implementation"
        )
    (request,) = receiver.wait_for(1)
    event = verify(endpoint.plain_secret, request)
    assert event["type"] == "project.status_changed"
    assert request["headers"]["Registry-Event-Id"] == event["id"]
    assert event["data"]["status_change"]["to_status"] == "in_progress"
    project = event["data"]["project"]
    # Exactly the partner's API view of the project.
    api = APIClient()
    api.force_authenticate(partner_user)
    shown = api.get(f"/api/v1/projects/{selected.code}/").json()
    assert set(project) == set(PartnerProjectDetailSerializer.Meta.fields)
    assert {k: v for k, v in project.items() if k != "url"} == {
        k: v for k, v in shown.items() if k != "url"
    }
    assert project["url"].endswith(f"/api/v1/projects/{selected.code}/")
    body = request["body"].decode()
    for field in (*STAFF_ONLY_FIELDS, *PARTNER_HIDDEN_FIELDS - {"risk_level"}):
        assert field not in project
    assert "INTERNAL-SECRET" not in body and "RISK-SECRET" not in body
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.last_status_code == 200


def test_a_staff_owned_endpoint_gets_no_staff_only_field_either(
    selected, receiver, manager, django_capture_on_commit_callbacks
):
    _endpoint, secret = services.endpoint_create(
        owner=manager, url=receiver.url, event_types=["project.support_decided"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        project_services.support_decide(
            project=selected, actor=manager, kind="funding", conditions="CONDITION-SECRET"
        )
    (request,) = receiver.wait_for(1)
    event = verify(secret, request)
    assert event["type"] == "project.support_decided"
    assert "conditions" not in event["data"]["support_decision"]
    assert set(event["data"]["project"]) == set(PartnerProjectDetailSerializer.Meta.fields)
    for secret_text in ("INTERNAL-SECRET", "RISK-SECRET", "CONDITION-SECRET"):
        assert secret_text not in request["body"].decode()


def test_progress_posted_event(
    selected, endpoint, receiver, partner_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        project_services.progress_post(project=selected, actor=partner_user, note="首批班列已发运")
    (request,) = receiver.wait_for(1)
    event = verify(endpoint.plain_secret, request)
    assert event["type"] == "project.progress_posted"
    assert event["data"]["progress_update"]["note"] == "首批班列已发运"


def test_only_subscribed_events_and_only_visible_projects(
    project, partner_user, officer, receiver, django_capture_on_commit_callbacks
):
    services.endpoint_create(
        owner=partner_user, url=receiver.url, event_types=["project.status_changed"]
    )
    # A draft is not the partner's to see: its update sends nothing, nor does the submit
    # of a project it does not take part in.
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_update(
            actor=officer, project=project, data={"title_en": "New title"}
        )
    assert WebhookDelivery.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_transition(project=project, actor=officer, action="submit")
    (request,) = receiver.wait_for(1)
    assert json.loads(request["body"])["data"]["status_change"]["to_status"] == "submitted"


def test_failed_delivery_is_retried_with_backoff_and_the_same_event_id(
    selected, endpoint, receiver, manager, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    backend = default_task_backend
    backend.clear()
    receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_transition(
            project=selected, actor=manager, action="start_implementation"
        )
    # The transition also asks for its warnings to be recomputed: only deliveries here.
    (first,) = deliveries(backend)
    assert first.task.run_after is None
    with django_capture_on_commit_callbacks(execute=True):
        first.task.call(**first.kwargs)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_status_code == 503
    # Re-enqueued to run after the first backoff step.
    retry = deliveries(backend)[-1]
    assert retry.kwargs == {"delivery_id": delivery.pk}
    delay = (retry.task.run_after - timezone.now()).total_seconds()
    assert settings.REGISTRY_WEBHOOK_RETRY_BASE_SECONDS - 5 < delay <= 60
    with django_capture_on_commit_callbacks(execute=True):
        retry.task.call(**retry.kwargs)
    second_delay = (deliveries(backend)[-1].task.run_after - timezone.now()).total_seconds()
    assert 115 < second_delay <= 120  # doubled
    receiver.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        deliveries(backend)[-1].task.call(**deliveries(backend)[-1].kwargs)
    ids = {json.loads(r["body"])["id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {str(delivery.event_id)}
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 3
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [503, 503, 200]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def deliveries(backend):
    return [r for r in backend.results if r.task.name == "deliver_webhook"]


def test_retries_stop_after_24_hours(endpoint, receiver, django_capture_on_commit_callbacks):
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_test_event(endpoint=endpoint)
    # A real event a day old gives up instead of scheduling another attempt.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state="pending", event_type="project.updated",
        created_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=30),
    )  # fmt: skip
    services.attempt_delivery(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.next_attempt_at is None


def test_endpoint_failing_for_24_hours_is_disabled_and_its_owner_told(
    endpoint, receiver, partner_user, django_capture_on_commit_callbacks
):
    receiver.status = 500
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )
    pending = WebhookDelivery.objects.create(endpoint=endpoint, event_type="x", body="{}")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.delivery_create(
            endpoint=endpoint, event_type="project.updated", data={}
        )
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    delivery.refresh_from_db()
    pending.refresh_from_db()
    assert delivery.state == "failed" and pending.state == "failed"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [partner_user.email]
    assert endpoint.url in mail.outbox[0].body
    # Nothing more is sent to a disabled endpoint.
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_create(endpoint=endpoint, event_type="project.updated", data={})
    assert len(receiver.requests) == 1


def test_a_slow_receiver_times_out_and_a_big_answer_is_cut(
    endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.REGISTRY_WEBHOOK_TIMEOUT = 0.3
    receiver.delay = 1
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_test_event(endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and "timed out" in delivery.last_error.lower()
    receiver.delay = 0
    receiver.answer = b"x" * (5 * 1024 * 1024)
    status, answer = security.post(receiver.url, b"{}", {})
    assert status == 200 and len(answer) == settings.REGISTRY_WEBHOOK_MAX_RESPONSE_BYTES


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/",
        "https://192.168.0.10/",
        "https://172.16.5.4/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "https://user:pw@93.184.216.34/",
        "ftp://93.184.216.34/",
    ],
)
def test_private_loopback_and_link_local_urls_are_refused(settings, partner_user, url):
    settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(services.WebhookError) as refused:
        services.endpoint_create(owner=partner_user, url=url, event_types=ALL_EVENTS)
    assert "url" in refused.value.errors
    assert not WebhookEndpoint.objects.exists()


def test_public_https_url_is_accepted_and_http_needs_debug(settings, partner_user):
    settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE = False
    settings.REGISTRY_WEBHOOK_ALLOW_HTTP = False
    assert security.check_url("https://93.184.216.34/hook") == [("93.184.216.34", 443)]
    with pytest.raises(security.UnsafeURL):
        security.check_url("http://93.184.216.34/hook")
    settings.REGISTRY_WEBHOOK_ALLOW_HTTP = True
    assert security.check_url("http://93.184.216.34/hook") == [("93.184.216.34", 80)]


def test_the_address_is_checked_again_when_sending(
    endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE = False
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.send_test_event(endpoint=endpoint)
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.attempts == 1 and "127.0.0.1" in delivery.last_error


def test_unknown_event_types_are_refused(partner_user, receiver):
    with pytest.raises(services.WebhookError) as refused:
        services.endpoint_create(
            owner=partner_user, url=receiver.url, event_types=["project.deleted"]
        )
    assert "event_types" in refused.value.errors


# --- The portal's webhook pages ------------------------------------------------------------


def test_portal_registers_an_endpoint_and_shows_the_secret_once(client, partner_user, receiver):
    client.force_login(partner_user)
    response = client.post(
        reverse("portal:webhooks"),
        {"url": receiver.url, "event_types": ["project.status_changed"]},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    assert endpoint.owner == partner_user
    assert endpoint.secret not in client.get(reverse("portal:webhooks")).content.decode()
    assert (
        endpoint.secret
        not in client.get(reverse("portal:webhook", args=[endpoint.pk])).content.decode()
    )


def test_portal_refuses_a_private_url_with_a_message(client, partner_user, settings):
    settings.REGISTRY_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(partner_user)
    response = client.post(
        reverse("portal:webhooks"),
        {"url": "https://127.0.0.1/hook", "event_types": ["project.updated"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "loopback" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_send_test_event_button_and_delivery_log(
    client, partner_user, endpoint, receiver, django_capture_on_commit_callbacks
):
    client.force_login(partner_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:webhook-test", args=[endpoint.pk]))
    assert response.status_code == 302
    (request,) = receiver.wait_for(1)
    event = verify(endpoint.plain_secret, request)
    assert event["type"] == "webhook.test"
    log = client.get(reverse("portal:webhook", args=[endpoint.pk])).content.decode()
    assert event["id"] in log and ">200<" in log


def test_another_users_endpoint_is_404(client, other_officer, endpoint):
    client.force_login(other_officer)
    assert client.get(reverse("portal:webhook", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("portal:webhook-test", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("portal:webhook-toggle", args=[endpoint.pk])).status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.active


def test_send_due_webhooks_command_attempts_due_retries(endpoint, receiver):
    from django.core.management import call_command

    due = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="project.updated", body='{"id":"x"}',
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )  # fmt: skip
    later = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="project.updated", body='{"id":"y"}',
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )  # fmt: skip
    call_command("send_due_webhooks", verbosity=0)
    assert [r["body"] for r in receiver.wait_for(1)] == [b'{"id":"x"}']
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.state == "delivered" and later.state == "pending"


def test_admin_lists_endpoints_without_secrets_and_disables_them(client, admin_user, endpoint):
    client.force_login(admin_user)
    changelist = reverse("admin:partners_webhookendpoint_changelist")
    assert endpoint.url in client.get(changelist).content.decode()
    change = client.get(reverse("admin:partners_webhookendpoint_change", args=[endpoint.pk]))
    assert change.status_code == 200 and endpoint.plain_secret not in change.content.decode()
    response = client.post(changelist, {"action": "disable", "_selected_action": [endpoint.pk]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.active


@pytest.mark.parametrize("active", ["en", "zh-hans"])
def test_the_body_speaks_the_owner_language_whatever_the_thread_has_active(
    active, selected, endpoint, receiver, manager, partner_user, django_capture_on_commit_callbacks
):
    set_user_language(user=partner_user, language="en")
    with translation.override(active), django_capture_on_commit_callbacks(execute=True):
        project_services.project_transition(
            project=selected, actor=manager, action="start_implementation"
        )
    (request,) = receiver.wait_for(1)
    assert verify(endpoint.plain_secret, request)["data"]["project"]["status_label"] == (
        "in progress"
    )
