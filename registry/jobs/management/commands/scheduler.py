"""manage.py scheduler [--once] [--interval SECONDS]

The one scheduler (the Procfile's `scheduler:` process): every minute it enqueues the
daily jobs whose run of the day is not enqueued yet (REGISTRY_DAILY_TASKS); workers run
them. Running two by mistake does no harm: a day's run is enqueued once (a unique row per
job and day). `--once` enqueues what is due and exits, for cron.
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from registry.jobs.daily import enqueue_due


class Command(BaseCommand):
    help = "Enqueue the daily jobs once a day (run one of these beside the workers)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue what is due and exit")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between checks")

    def handle(self, *args, once=False, interval=60.0, **options):
        while True:
            for name in enqueue_due():
                self.stdout.write(f"enqueued {name}")
            if once:
                return
            time.sleep(interval)
            # A connection idle for a minute may have been dropped; like a request would.
            close_old_connections()
