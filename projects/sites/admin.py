"""The sites inline of the project admin, with a small map to place or check a point.

The inline's rows are written by `projects.sites.services` (called from the project
admin's `save_related`, after the project and its countries), so the admin obeys the same
rules as the API: ranges, the project's countries, rights, history. Deleting a row there
removes the site (`removed_at`); nothing is hard-deleted.
"""

from django.contrib import admin

from projects import access
from projects.sites import services
from projects.sites.map import project_map_config, site_map_config
from projects.sites.models import Site
from registry.admin import AccessRightsMixin

INLINE_FIELDS = (
    "name_zh",
    "name_en",
    "facility_type",
    "country",
    "latitude",
    "longitude",
    "exactness",
    "admin_area",
)


class SiteInline(AccessRightsMixin, admin.TabularInline):
    model = Site
    extra = 0
    fields = INLINE_FIELDS
    autocomplete_fields = ("country",)
    # Draws the tabular inline, then the map and its data (json_script, no inline code).
    template = "admin/projects/site/tabular_with_map.html"

    class Media:
        js = (
            "registry/vendor/echarts/echarts.min.js",
            "projects/sites/site_map.js",
        )
        css = {"all": ("projects/sites/site_map.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).filter(removed_at__isnull=True)

    # Rows of a project are changed by whoever may change the project.
    def _may_edit(self, request, obj) -> bool:
        return obj is None or access.can_edit_project(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.map_config = (
            project_map_config(obj)
            if obj is not None
            else {**site_map_config(), "countries": {}, "sites": [], "editable": True}
        )
        return formset


def save_site_formsets(*, actor, project, formsets) -> None:
    """Write the sites inline's rows through the services (the project is saved first,
    so a site may lie in a country added in the same save)."""
    for formset in formsets:
        if formset.model is not Site:
            continue
        for form in formset.forms:
            if not form.cleaned_data:
                continue
            data = {name: form.cleaned_data.get(name) for name in INLINE_FIELDS}
            instance = form.instance
            if instance.pk is None:
                if form.has_changed() and not form.cleaned_data.get("DELETE"):
                    services.site_add(actor=actor, project=project, data=data)
            elif form.cleaned_data.get("DELETE"):
                services.site_remove(actor=actor, site=instance)
            elif form.has_changed():
                services.site_change(actor=actor, site=instance, data=data)
