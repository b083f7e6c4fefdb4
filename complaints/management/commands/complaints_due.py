"""Run the complaints near-deadline job now: ``manage.py complaints_due [--days N] [--date YYYY-MM-DD]``."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.services import job
from labqms import audit


class Command(BaseCommand):
    help = "Flag complaints with few working days left or overdue; notify once per state."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="working days left that count as near (default: setting)")
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="run as if today were this date")

    def handle(self, *args, days=None, date=None, **options):
        with audit.source("command:complaints_due"):
            result = job.run(date or timezone.localdate(), days)
        self.stdout.write(f"near_deadline={result.near_deadline} overdue={result.overdue} notifications={result.notifications}")
