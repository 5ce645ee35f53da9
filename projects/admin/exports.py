"""The admin side of the CSV/XLSX exports: the changelist's export buttons and the two
actions on selected rows. The files themselves are written by `projects.reporting.exports`."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy

from projects import access
from projects.reporting import exports


def export_response(queryset, file_format: str, request=None):
    language = get_language() or "zh-hans"
    if request is not None and file_format in {"csv", "xlsx"}:
        # A large export is built by a worker; its page shows the progress and the file.
        from projects.tasks import background_export

        job = background_export(
            user=request.user, queryset=queryset, file_format=file_format, language=language
        )
        if job is not None:
            return redirect(reverse("job-page", args=[job.pk]))
    if file_format == "csv":
        return exports.stream_projects_csv(queryset, language=language)
    if file_format == "xlsx":
        return exports.projects_xlsx_response(queryset, language=language)
    raise Http404


def _check_export(request) -> None:
    if not access.can_export_projects(request.user):
        raise PermissionDenied


@admin.action(description=gettext_lazy("Export selected projects as CSV"), permissions=["export"])
def export_selected_csv(modeladmin, request, queryset):
    _check_export(request)
    return export_response(access.visible_projects(request.user, queryset), "csv", request)


@admin.action(description=gettext_lazy("Export selected projects as XLSX"), permissions=["export"])
def export_selected_xlsx(modeladmin, request, queryset):
    _check_export(request)
    return export_response(access.visible_projects(request.user, queryset), "xlsx", request)


class ProjectExportAdminMixin:
    """For ProjectAdmin: `export/csv/` and `export/xlsx/` export the changelist as
    filtered (all pages). The two actions export the selected rows: add
    `*ProjectExportAdminMixin.export_actions` to the admin's `actions`. The buttons are in
    `projects/dashboard/export_buttons.html`, to include in the changelist's object
    tools."""

    export_actions = (export_selected_csv, export_selected_xlsx)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/<str:file_format>/",
                self.admin_site.admin_view(self.export_changelist_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def has_export_permission(self, request) -> bool:
        """Asked by the admin for actions declared with permissions=["export"]."""
        return access.can_export_projects(request.user)

    def export_changelist_view(self, request, file_format: str):
        if file_format not in ("csv", "xlsx"):
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        _check_export(request)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            info = self.opts.app_label, self.opts.model_name
            return redirect(reverse("admin:{}_{}_changelist".format(*info)) + "?e=1")
        queryset = access.visible_projects(request.user, changelist.queryset)
        return export_response(queryset, file_format, request)
