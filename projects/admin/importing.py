"""The project import in the admin (`registry.import_admin` holds the views)."""

from django import forms
from django.utils.translation import gettext_lazy

from projects import access
from projects.importing.projects import import_projects
from projects.importing.template import PROJECT_COLUMNS
from projects.tasks import import_file
from registry.import_admin import ImportAdminViews, ImportForm


class ProjectImportForm(ImportForm):
    create_partners = forms.BooleanField(
        label=gettext_lazy("create partners that are not in the registry yet"),
        required=False,
        help_text=gettext_lazy(
            "New partners get the country written after @ (e.g. Lao Bank@LA), or the "
            "project's only country, and the kind 'enterprise'; review them afterwards."
        ),
    )


class ImportAdminMixin(ImportAdminViews):
    """Project import: officers for their own units, administrators for any."""

    import_form_class = ProjectImportForm
    import_columns = PROJECT_COLUMNS
    import_title = gettext_lazy("Import projects")
    import_target = "projects"
    import_task = import_file

    def may_import(self, user) -> bool:
        return access.can_create_project(user)

    def run_import(self, table, *, user, commit: bool, options: dict):
        return import_projects(
            table,
            actor=user,
            commit=commit,
            create_partners=options.get("create_partners", False),
        )
