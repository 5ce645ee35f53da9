"""The partner import in the admin (`registry.import_admin` holds the views)."""

from django.utils.translation import gettext_lazy

from partners import access
from partners.importing import PARTNER_COLUMNS, import_partners
from partners.tasks import import_partners_file
from registry.import_admin import ImportAdminViews


class PartnerImportAdminMixin(ImportAdminViews):
    """Partner import, for the partner admin: upsert by org-id or (Chinese name, country)."""

    import_columns = PARTNER_COLUMNS
    import_title = gettext_lazy("Import partner institutions")
    import_target = "partners"
    import_task = import_partners_file
    # The partner admin's change list gains the Import link from this template.
    change_list_template = "admin/partners/import_change_list.html"

    def may_import(self, user) -> bool:
        return access.can_manage_partners(user)

    def run_import(self, table, *, user, commit: bool, options: dict):
        return import_partners(table, actor=user, commit=commit)
