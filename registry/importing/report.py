"""What an import did or would do: counts, one line per row, every error."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from registry.importing.formats import column_letter

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
ERROR = "error"


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet shows it; the header is row 1
    column: str  # "D 国家及比例 countries", or "" for the whole row / file
    message: str

    def __str__(self) -> str:
        where = _("row %(row)s") % {"row": self.row} if self.row else _("file")
        if self.column:
            where += ", " + _("column %(column)s") % {"column": self.column}
        return f"{where}: {self.message}"


@dataclass
class RowResult:
    row: int
    action: str
    code: str = ""  # the project's code; for a create in a dry run, empty
    label: str = ""  # a title or name, so the user recognises the row
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    total_rows: int = 0
    rows_processed: int = 0
    committed: bool = False
    file_format: str = ""
    encoding: str = ""
    results: list[RowResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    created_partners: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.results if r.action == action)

    @property
    def created(self) -> int:
        return self.count(CREATE)

    @property
    def updated(self) -> int:
        return self.count(UPDATE)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, row: int, column: str, message) -> None:
        self.errors.append(RowError(row, column, str(message)))

    def as_text(self) -> str:
        lines = []
        if self.committed:
            lines.append(_("Imported."))
        elif self.errors:
            lines.append(_("Nothing was imported: the file has errors."))
        else:
            lines.append(_("Dry run: nothing was written. Run again with --commit to import."))
        lines.append(
            _(
                "%(total)s rows, %(processed)s processed: %(created)s to create, "
                "%(updated)s to update, %(unchanged)s unchanged, %(errors)s with errors."
            )
            % {
                "total": self.total_rows,
                "processed": self.rows_processed,
                "created": self.created,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "errors": self.error_rows,
            }
        )
        if self.encoding:
            lines.append(_("Read as %(encoding)s.") % {"encoding": self.encoding})
        for name in self.created_partners:
            lines.append(_("New partner: %(name)s") % {"name": name})
        for result in self.results:
            if result.action == CREATE and result.code:
                lines.append(
                    _("row %(row)s: created %(code)s %(label)s")
                    % {"row": result.row, "code": result.code, "label": result.label}
                )
            for warning in result.warnings:
                lines.append(
                    _("row %(row)s: note: %(warning)s") % {"row": result.row, "warning": warning}
                )
        lines.extend(str(error) for error in self.errors)
        return "\n".join(lines)


def column_label(index: int | None, header: str) -> str:
    if index is None:
        return header
    return f"{column_letter(index)} {header}".strip()
