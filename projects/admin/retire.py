"""Admin for what history names: tags and users are retired, never deleted.

A deleted tag vanished from every project's history and changed projects without a new
version; a deleted user left history rows without their actor. Tags are merged into
another or deactivated (`services.tag_merge` / `tag_deactivate`); a user who appears in
history is deactivated, and the admin refuses to delete them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import ActionLocation
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from projects import services
from projects.errors import DomainError
from projects.history import appears_in_history
from projects.models import Tag
from registry.admin import AccessRightsMixin, NoDeleteMixin


class TagActionForm(ActionForm):
    merge_into = forms.ModelChoiceField(
        queryset=Tag.objects.filter(is_active=True),
        required=False,
        label=_("merge into"),
    )


@admin.register(Tag)
class TagAdmin(NoDeleteMixin, AccessRightsMixin, admin.ModelAdmin):
    list_display = ("name", "is_active", "project_count")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("name",)
    action_form = TagActionForm
    actions = ("merge_tags", "deactivate_tags")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_count=Count("projects"))

    def get_readonly_fields(self, request, obj=None):
        # A rename would rewrite every past mention of the tag: merge instead.
        return ("name", "is_active") if obj is not None else ()

    @admin.display(description=_("projects"), ordering="project_count")
    def project_count(self, obj):
        return obj.project_count

    @admin.action(description=_("Merge the selected tags into the chosen tag"))
    def merge_tags(self, request, queryset):
        # The action bar's own form holds the target; only its field is read here (the
        # `action` choice is checked by the admin itself).
        field = TagActionForm.base_fields["merge_into"]
        try:
            target = field.clean(request.POST.get("merge_into"))
        except forms.ValidationError:
            target = None
        if target is None:
            self.message_user(request, gettext("Choose the tag to merge into."), messages.ERROR)
            return
        moved = 0
        try:
            for tag in queryset.exclude(pk=target.pk):
                moved += services.tag_merge(source=tag, target=target, actor=request.user)
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d project now carries “%(tag)s”.",
                "%(count)d projects now carry “%(tag)s”.",
                moved,
            )
            % {"count": moved, "tag": target.name},
        )

    @admin.action(description=_("Deactivate the selected tags"))
    def deactivate_tags(self, request, queryset):
        try:
            for tag in queryset:
                services.tag_deactivate(tag=tag, actor=request.user)
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)


User = get_user_model()


class RegistryUserAdmin(AccessRightsMixin, UserAdmin):
    """Users who appear in history are deactivated, never deleted."""

    actions = ("deactivate_users",)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        # The bulk delete would remove history's actors along with the users.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and appears_in_history(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and appears_in_history(obj):
            self.message_user(
                request,
                gettext("%(user)s appears in the history of the pool: deactivate the user instead.")
                % {"user": obj.get_username()},
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:auth_user_change", args=[obj.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    @admin.action(description=_("Deactivate the selected users"))
    def deactivate_users(self, request, queryset):
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(
            request,
            ngettext("%(count)d user deactivated.", "%(count)d users deactivated.", count)
            % {"count": count},
        )


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, RegistryUserAdmin)
