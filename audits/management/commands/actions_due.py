"""Run the overdue-actions job now: ``manage.py actions_due [--date YYYY-MM-DD]``."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from audits.services import job
from labqms import audit


class Command(BaseCommand):
    help = "Notify overdue corrective actions and review decisions once per due date."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="run as if today were this date")

    def handle(self, *args, date=None, **options):
        with audit.source("command:actions_due"):
            result = job.run(date or timezone.localdate())
        self.stdout.write(f"overdue={result.overdue} notifications={result.notifications}")
