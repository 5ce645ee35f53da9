"""Admin for the reference data, and the admin pieces every app of the registry shares."""

from django.apps import apps
from django.contrib import admin, messages
from django.db import router, transaction
from django.db.models import Count, ProtectedError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from registry.models import Country, CountryGroup, Sector
from registry.roles import can_use_app, can_use_model, is_superuser

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


class AccessRightsMixin:
    """The admin's rights asked of the access modules, never of Django's permission rows:
    a page's view/add/change/delete answer starts from the role's right on that kind of
    record (`registry.roles.can_use_model`, re-exported by `partners.access` and
    `projects.access`), and the admin classes narrow it with the object rules. Mixed in
    just before the Django admin base, so every override's super() lands here."""

    def has_module_permission(self, request):
        return can_use_app(request.user, self.opts.app_label)

    def has_view_permission(self, request, obj=None):
        return can_use_model(request.user, "view", self.model)

    def has_add_permission(self, request, obj=None):
        return can_use_model(request.user, "add", self.model)

    def has_change_permission(self, request, obj=None):
        return can_use_model(request.user, "change", self.model)

    def has_delete_permission(self, request, obj=None):
        return can_use_model(request.user, "delete", self.model)


class SuperuserDeleteMixin:
    """Only administrators delete, and only what nothing refers to: the PROTECT foreign keys
    decide, and a refusal is a message on the page, never a server error."""

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request.user)

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
class CountryAdmin(SuperuserDeleteMixin, AccessRightsMixin, admin.ModelAdmin):
    list_display = ("iso2", "iso3", "numeric", "name_zh", "name_en", "region", "subregion")
    list_filter = ("region", "subregion", "groups")
    search_fields = ("iso2", "iso3", "numeric", "name_zh", "name_en")
    ordering = ("iso2",)

    def get_readonly_fields(self, request, obj=None):
        # The primary key names the country everywhere; it is fixed once created.
        return ("iso2",) if obj else ()


@admin.register(CountryGroup)
class CountryGroupAdmin(SuperuserDeleteMixin, AccessRightsMixin, admin.ModelAdmin):
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
class SectorAdmin(SuperuserDeleteMixin, AccessRightsMixin, admin.ModelAdmin):
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


# --- The admins other packages register ------------------------------------------------

# Users' groups (the roles themselves), login lockouts, background task results: the roles
# grant nothing on them, so only administrators open them, whatever permission rows a user
# holds. (The user admin is the registry's own: `projects.admin.retire`.)
OTHER_APPS = ("auth", "axes", "django_tasks_database")


class OtherAppAccessMixin:
    """An admin another package registers, asked of the roles first: each right is the
    role's (`can_use_model`) and the package's own rule (a lockout log cannot be added)."""

    def has_module_permission(self, request):
        return can_use_app(request.user, self.opts.app_label) and super().has_module_permission(
            request
        )

    def has_view_permission(self, request, obj=None):
        return can_use_model(request.user, "view", self.model) and super().has_view_permission(
            request, obj
        )

    def has_add_permission(self, request, *args):
        return can_use_model(request.user, "add", self.model) and super().has_add_permission(
            request, *args
        )

    def has_change_permission(self, request, obj=None):
        return can_use_model(request.user, "change", self.model) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return can_use_model(request.user, "delete", self.model) and super().has_delete_permission(
            request, obj
        )


def _ask_roles_first(site: admin.AdminSite) -> None:
    for app_label in OTHER_APPS:
        try:
            models = apps.get_app_config(app_label).get_models()
        except LookupError:  # not installed
            continue
        for model in models:
            if not site.is_registered(model):
                continue
            registered = type(site.get_model_admin(model))
            if issubclass(registered, AccessRightsMixin | OtherAppAccessMixin):
                continue
            site.unregister(model)
            site.register(model, type(registered.__name__, (OtherAppAccessMixin, registered), {}))


_ask_roles_first(admin.site)
