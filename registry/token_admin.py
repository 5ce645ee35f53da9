"""Admin for API tokens: list, name, expiry and revoke. The secret is never shown here;
tokens are issued with `manage.py issue_token`, which prints the secret once."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from registry.admin import AccessRightsMixin
from registry.authentication import revoke_tokens
from registry.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(AccessRightsMixin, admin.ModelAdmin):
    """Administrators only (no role carries a right on tokens), whatever permission rows a
    user holds."""

    list_display = [
        "name",
        "user",
        "key_prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "user__username", "key_prefix"]
    readonly_fields = ["user", "key_prefix", "created_at", "revoked_at", "last_used_at"]
    fields = [
        "user",
        "name",
        "key_prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoked tokens stay, as a record of who had access when.
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = revoke_tokens(queryset)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
