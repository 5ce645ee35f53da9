"""Account pages of the partner portal. Every object is looked up among the signed-in
user's own (tokens, endpoints), so another user's token or endpoint is a 404."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from partners.portal.forms import TokenForm, WebhookForm
from partners.webhooks import services as webhooks
from partners.webhooks.models import WebhookEndpoint
from registry.authentication import issue_token, revoke_tokens

portal_login_required = login_required(login_url="portal:login")


def _tokens(user):
    return user.api_tokens.order_by("-created_at", "-pk")


@never_cache
@portal_login_required
def token_list(request):
    """List the user's tokens and create one; the secret is shown in this answer only."""
    secret = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, secret = issue_token(
            user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        form = TokenForm()
    return render(
        request,
        "portal/tokens.html",
        {"form": form, "tokens": _tokens(request.user), "secret": secret, "now": timezone.now()},
    )


@require_POST
@portal_login_required
def token_revoke(request, pk):
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    revoke_tokens(type(token).objects.filter(pk=token.pk))
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("portal:tokens")


def _endpoints(user):
    return WebhookEndpoint.objects.filter(owner=user)


@never_cache
@portal_login_required
def webhook_list(request):
    secret = None
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _endpoint, secret = webhooks.endpoint_create(owner=request.user, **form.cleaned_data)
        except webhooks.WebhookError as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            form = WebhookForm()
    endpoints = _endpoints(request.user).annotate(
        failed=Count("deliveries", filter=Q(deliveries__state="failed"))
    )
    return render(
        request,
        "portal/webhooks.html",
        {"form": form, "endpoints": endpoints, "secret": secret},
    )


@portal_login_required
def webhook_detail(request, pk):
    endpoint = get_object_or_404(_endpoints(request.user), pk=pk)
    since = timezone.now() - timedelta(days=30)
    deliveries = endpoint.deliveries.filter(created_at__gte=since).prefetch_related("attempt_log")[
        :100
    ]
    return render(request, "portal/webhook.html", {"endpoint": endpoint, "deliveries": deliveries})


@require_POST
@portal_login_required
def webhook_test(request, pk):
    endpoint = get_object_or_404(_endpoints(request.user), pk=pk)
    if not endpoint.active:
        messages.error(request, _("Enable the endpoint before sending a test event."))
    else:
        webhooks.send_test_event(endpoint=endpoint)
        messages.success(request, _("Test event sent; see the log below."))
    return redirect("portal:webhook", pk=endpoint.pk)


@require_POST
@portal_login_required
def webhook_toggle(request, pk):
    endpoint = get_object_or_404(_endpoints(request.user), pk=pk)
    if endpoint.active:
        webhooks.endpoint_deactivate(endpoint=endpoint, reason=_("Disabled by its owner."))
        messages.success(request, _("Endpoint disabled."))
    else:
        try:
            webhooks.endpoint_activate(endpoint=endpoint)
        except webhooks.WebhookError as error:
            messages.error(request, " ".join(error.errors["url"]))
        else:
            messages.success(request, _("Endpoint enabled."))
    return redirect("portal:webhook", pk=endpoint.pk)
