"""What the import commands share (`import_projects`, `import_partners`): read the file,
act as a user, print the report, exit 1 when it has errors."""

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from registry.importing.formats import AUTO, ENCODINGS, ImportFileError, check_size, read_table


class ImportCommand(BaseCommand):
    """The base of the import commands; subclasses say what `run_import` imports."""

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .csv or .xlsx file")
        parser.add_argument(
            "--commit", action="store_true", help="write the rows (default: dry run only)"
        )
        parser.add_argument(
            "--user",
            required=True,
            help="the user the import acts as: their rights apply and history records them",
        )
        parser.add_argument(
            "--encoding",
            default=AUTO,
            choices=sorted(ENCODINGS),
            help="CSV encoding (default: detect UTF-8 / UTF-8 with BOM / GB18030)",
        )
        parser.add_argument(
            "--language", default=None, help="language of the report (zh-hans or en)"
        )

    def handle(self, *args, **options):
        with translation.override(options["language"] or translation.get_language()):
            return self._handle(options)

    def _handle(self, options):
        path = Path(options["file"])
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(_("No user %(name)s.") % {"name": options["user"]}) from None
        try:
            check_size(os.path.getsize(path))
            table = read_table(path.read_bytes(), path.name, options["encoding"])
        except OSError as error:
            raise CommandError(str(error)) from None
        except ImportFileError as error:
            raise CommandError(error.message) from None
        report = self.run_import(table, user, options)
        self.stdout.write(report.as_text())
        if not report.ok:
            raise CommandError(
                _("%(count)s errors; nothing was written.") % {"count": len(report.errors)}
            )

    def progress(self, done: int, total: int) -> None:
        """A progress bar on a terminal; nothing when stderr is a pipe or a file (logs
        and cron mails get the report only)."""
        bar = getattr(self, "_bar", None)
        if bar is None:
            # The raw stream, not Django's OutputWrapper, which ends every write with a
            # newline: a bar redraws its line with a carriage return.
            stream = getattr(self.stderr, "_out", self.stderr)
            bar = self._bar = tqdm(
                total=total,
                unit=" " + _("rows"),
                file=stream,
                disable=not self.stderr.isatty(),
                leave=True,
            )
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def run_import(self, table, user, options):
        raise NotImplementedError
