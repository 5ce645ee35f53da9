"""Admin for partner institutions, their contacts and the users who act for them."""

from collections.abc import Callable

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from partners import access, services
from partners.admin_import import PartnerImportAdminMixin
from partners.models import Contact, Membership, Partner
from registry.admin import AccessRightsMixin, NoDeleteMixin

# Autocomplete fields of other apps' forms that offer a user only some institutions:
# (app_label, model_name, field_name) -> function(user, queryset) -> queryset. The apps
# above register their rules (`narrow_autocomplete`); partners may not import them.
_autocomplete_narrowing: dict[tuple[str, str, str], Callable] = {}


def narrow_autocomplete(app_label: str, model_name: str, field_name: str, narrow: Callable):
    """Make the institution autocomplete of that form field offer only `narrow(user, qs)`."""
    _autocomplete_narrowing[(app_label, model_name, field_name)] = narrow


class ContactInline(AccessRightsMixin, admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "position", "email", "phone", "active")
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(AccessRightsMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)

    def has_delete_permission(self, request, obj=None):
        return access.can_end_memberships(request.user)


@admin.register(Partner)
class PartnerAdmin(PartnerImportAdminMixin, NoDeleteMixin, AccessRightsMixin, SimpleHistoryAdmin):
    list_display = (
        "name_zh",
        "name_en",
        "kind",
        "country",
        "domestic",
        "active",
        "project_count",
        "updated_at",
    )
    list_filter = ("active", "kind", ("country", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("country",)
    # Explicit: the annotated (grouped) queryset does not keep the model's default order.
    ordering = ("name_zh", "pk")
    search_fields = ("name_zh", "name_en", "org_id", "country__name_zh", "country__name_en")
    autocomplete_fields = ("country",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (ContactInline, MembershipInline)
    actions = ("deactivate",)
    fieldsets = (
        (None, {"fields": ("name_zh", "name_en", "kind", "country", "active")}),
        (_("Details"), {"fields": ("website", "org_id", "description")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_count=Count("led_projects"))

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # E.g. the project form's lead-unit autocomplete offers only units the user may name.
        narrow = _autocomplete_narrowing.get(
            (
                request.GET.get("app_label"),
                request.GET.get("model_name"),
                request.GET.get("field_name"),
            )
        )
        if narrow is not None:
            queryset = narrow(request.user, queryset)
        return queryset, may_have_duplicates

    @admin.display(description=_("domestic"), boolean=True)
    def domestic(self, obj):
        return obj.is_domestic

    @admin.display(description=_("projects led"), ordering="project_count")
    def project_count(self, obj):
        return obj.project_count

    @admin.action(description=_("Deactivate the selected institutions"), permissions=["change"])
    def deactivate(self, request, queryset):
        changed = services.partners_deactivate(actor=request.user, partners=queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d institution deactivated.",
                "%(count)d institutions deactivated.",
                changed,
            )
            % {"count": changed},
        )


@admin.register(Contact)
class ContactAdmin(NoDeleteMixin, AccessRightsMixin, SimpleHistoryAdmin):
    list_display = ("name", "partner", "position", "email", "phone", "active")
    list_filter = ("active",)
    list_select_related = ("partner",)
    search_fields = ("name", "email", "partner__name_zh", "partner__name_en")
    autocomplete_fields = ("partner",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(Membership)
class MembershipAdmin(AccessRightsMixin, SimpleHistoryAdmin):
    list_display = ("user", "partner", "created_at")
    list_select_related = ("user", "partner")
    search_fields = ("user__username", "partner__name_zh", "partner__name_en")
    autocomplete_fields = ("user", "partner")
    readonly_fields = ("created_at",)

    def has_delete_permission(self, request, obj=None):
        return access.can_end_memberships(request.user)


# Webhook endpoints are registered by their own module.
import partners.webhooks.admin  # noqa: E402, F401
