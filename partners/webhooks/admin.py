"""Webhooks in the admin (administrators): every endpoint with its state, its recent
deliveries, and an action to disable endpoints. The secret is never shown."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from partners.webhooks import services
from partners.webhooks.models import WebhookDelivery, WebhookEndpoint
from registry.admin import AccessRightsMixin


class DeliveryInline(AccessRightsMixin, admin.TabularInline):
    model = WebhookDelivery
    fields = ["created_at", "event_type", "event_id", "state", "attempts", "last_status_code"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]
    show_change_link = False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AccessRightsMixin, admin.ModelAdmin):
    list_display = ["url", "owner", "active", "failing_since", "disabled_at", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "owner__username"]
    fields = ["owner", "url", "description", "event_types", "active", "failing_since",
              "disabled_at", "disabled_reason", "created_at"]  # fmt: skip
    readonly_fields = fields
    inlines = [DeliveryInline]
    actions = ["disable"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Disable the selected endpoints"), permissions=["change"])
    def disable(self, request, queryset):
        count = 0
        for endpoint in queryset.filter(active=True):
            services.endpoint_deactivate(endpoint=endpoint, reason=str(_("Disabled by staff.")))
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d endpoint disabled.", "%(count)d endpoints disabled.", count)
            % {"count": count},
            messages.SUCCESS,
        )
