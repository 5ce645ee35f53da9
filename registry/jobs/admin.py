from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from registry.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Each user's own jobs (superusers see all), read-only: failed ones with their error."""

    list_display = ("__str__", "status", "rows_done", "rows_total", "created_at", "page_link")
    list_filter = ("status", "kind")
    fields = (
        "kind",
        "label",
        "owner",
        "status",
        "rows_done",
        "rows_total",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(owner=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or request.user.is_superuser or obj.owner_id == request.user.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("progress"))
    def page_link(self, obj):
        if obj.owner_id is None:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("job-page", args=[obj.pk]), _("open"))
