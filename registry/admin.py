"""Admin for the reference data, and the admin pieces every app of the registry shares."""

from django.contrib import admin, messages
from django.db import router, transaction
from django.db.models import Count, ProtectedError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from registry.models import Country, CountryGroup, Sector

admin.site.site_header = _("International cooperation project registry")
admin.site.site_title = _("Project registry")
admin.site.index_title = _("Administration")
# "/" sends visitors to the admin, so the default "view site" link would lead back here.
admin.site.site_url = None


def protected_message(error: ProtectedError) -> str:
    examples = ", ".join(str(obj) for obj in list(error.protected_objects)[:5])
    return gettext("It cannot be deleted because other records still refer to it: %(examples)s") % {
        "examples": examples
    }


class SuperuserDeleteMixin:
    """Only administrators delete, and only what nothing refers to: the PROTECT foreign keys
    decide, and a refusal is a message on the page, never a server error."""

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ProtectedError as error:
            self.message_user(request, protected_message(error), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def changelist_view(self, request, extra_context=None):
        # The bulk delete action logs before it deletes; one transaction keeps the log true.
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except ProtectedError as error:
            self.message_user(request, protected_message(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class NoDeleteMixin:
    """Records that leave the pool by deactivation or a transition, never by deletion."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Country)
class CountryAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
    list_display = ("iso2", "iso3", "numeric", "name_zh", "name_en", "region", "subregion")
    list_filter = ("region", "subregion", "groups")
    search_fields = ("iso2", "iso3", "numeric", "name_zh", "name_en")
    ordering = ("iso2",)

    def get_readonly_fields(self, request, obj=None):
        # The primary key names the country everywhere; it is fixed once created.
        return ("iso2",) if obj else ()


@admin.register(CountryGroup)
class CountryGroupAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "kind", "member_count")
    list_filter = ("kind",)
    search_fields = ("code", "name_zh", "name_en")
    filter_horizontal = ("members",)
    ordering = ("kind", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(Sector)
class SectorAdmin(SuperuserDeleteMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "name_zh",
        "name_en",
        "parent",
        "people_to_people",
        "dac_code",
        "sort_order",
    )
    list_filter = ("people_to_people", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("code", "name_zh", "name_en", "dac_code")
    autocomplete_fields = ("parent",)
    ordering = ("sort_order", "code")
