import os
import shutil
import sys
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from projects.reporting.iati import write_activities


class Command(BaseCommand):
    help = (
        "Write the IATI 2.03 activity file of the published projects (selected, in progress, "
        "completed) to standard output or --output. Projects breaking a rule are left out "
        "and listed on standard error."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (standard output if absent)")

    def handle(self, *args, output=None, **options):
        # Written to a temporary file first: a failed run never leaves half a file behind.
        target_dir = Path(output).resolve().parent if output else None
        with tempfile.NamedTemporaryFile(dir=target_dir, suffix=".xml", delete=False) as spool:
            try:
                result = write_activities(spool)
            except BaseException:
                os.unlink(spool.name)
                raise
        try:
            for problem in result.problems:
                self.stderr.write(f"left out {problem}")
            if not result.published:
                raise CommandError(
                    f"No project could be published ({len(result.problems)} left out); "
                    "an IATI file needs at least one activity."
                )
            if output:
                os.replace(spool.name, output)
            else:
                self._copy_to_stdout(spool.name)
        finally:
            if os.path.exists(spool.name):
                os.unlink(spool.name)
        summary = f"{len(result.published)} activities published, {len(result.problems)} left out."
        self.stderr.write(summary, style_func=self.style.SUCCESS)

    def _copy_to_stdout(self, path: str) -> None:
        stream = getattr(self.stdout, "_out", None)
        if stream is sys.stdout and hasattr(sys.stdout, "buffer"):
            sys.stdout.flush()
            with open(path, "rb") as source:
                shutil.copyfileobj(source, sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return
        with open(path, encoding="utf-8") as source:
            while chunk := source.read(64 * 1024):
                self.stdout.write(chunk, ending="")
