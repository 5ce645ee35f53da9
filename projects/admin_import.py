"""Spreadsheet import in the project admin: upload, dry-run preview, commit.
`projects.admin.ProjectAdmin` mixes this in."""


class ImportAdminMixin:
    pass
