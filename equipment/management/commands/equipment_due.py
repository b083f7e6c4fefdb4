"""Run the daily recalibration job now: ``manage.py equipment_due [--days N] [--date YYYY-MM-DD]``."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from equipment.services import job
from labqms import audit


class Command(BaseCommand):
    help = "Find overdue / due-soon equipment and expiring standard certificates; notify once per state."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="due-soon window (default: setting)")
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="run as if today were this date")

    def handle(self, *args, days=None, date=None, **options):
        with audit.source("command:equipment_due"):
            result = job.run(date or timezone.localdate(), days)
        self.stdout.write(
            f"overdue={result.overdue} due_soon={result.due_soon} "
            f"standards_expiring={result.standards_expiring} notifications={result.notifications}"
        )
