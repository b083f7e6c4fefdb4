"""Time and SQL queries of the daily jobs: ``manage.py bench_jobs [--keep] [--date YYYY-MM-DD]``.

Each job runs three times: today's run (on data where the job has been running daily, it
notifies what changed since yesterday), the repeat run, which must notify nothing new
(the alert rows are the jobs' memory) with the same number of queries, and a cold start
with the memory emptied (the first run ever: everything due is notified at once).  Everything happens in one transaction that is rolled back afterwards (unless
``--keep``), so the database — and the next benchmark — stay as they were, and no e-mail
task is queued.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from labqms import audit


class Rollback(Exception):
    pass


def jobs():
    from audits.models import ActionAlert
    from audits.services import job as actions_job
    from complaints.models import ComplaintAlert
    from complaints.services import job as complaints_job
    from equipment.models import Alert
    from equipment.services import job as equipment_job

    return [
        ("equipment_due", equipment_job.run, "equipment", Alert),
        ("complaints_due", complaints_job.run, "complaints", ComplaintAlert),
        ("actions_due", actions_job.run, "corrective actions", ActionAlert),
    ]


class Command(BaseCommand):
    help = "Measure the daily jobs (recalibration, complaints near deadline, overdue actions): time and queries."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="run as if today were this date")
        parser.add_argument("--keep", action="store_true", help="commit what the jobs did instead of rolling back")
        parser.add_argument("--json", default=None, help="also write the figures to this file")

    def handle(self, *args, date=None, keep=False, **o):
        from audits.models import CorrectiveAction
        from complaints.models import Complaint
        from equipment.models import Equipment

        today = date or timezone.localdate()
        sizes = {"equipment": Equipment.objects.count(), "complaints": Complaint.objects.count(),
                 "corrective actions": CorrectiveAction.objects.count()}
        results = []
        header = f"{'job':<16} {'rows':>12} {'of':<18} {'run':<7} {'seconds':>8} {'queries':>8}  result"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        try:
            with transaction.atomic(), audit.source("command:bench_jobs"):
                for name, run, table, memory in jobs():
                    for attempt in ("daily", "repeat", "cold") if not keep else ("daily", "repeat"):
                        if attempt == "cold":
                            memory.objects.all().delete()
                        with CaptureQueriesContext(connection) as queries:
                            began = time.perf_counter()
                            result = run(today)
                            seconds = time.perf_counter() - began
                        count = len(queries)
                        figures = {k: v for k, v in vars(result).items()}
                        results.append({"job": name, "run": attempt, "rows": sizes[table], "table": table,
                                        "seconds": round(seconds, 3), "queries": count, "result": figures})
                        self.stdout.write(f"{name:<16} {sizes[table]:>12,} {table:<18} {attempt:<7} {seconds:>8.3f} "
                                          f"{count:>8}  {figures}")
                        self.stdout.flush()
                if not keep:
                    raise Rollback
        except Rollback:
            self.stdout.write("(rolled back: nothing was stored or sent)")
        if o["json"]:
            with open(o["json"], "w", encoding="utf-8") as file:
                json.dump({"date": today.isoformat(), "jobs": results}, file, ensure_ascii=False, indent=1)
            self.stdout.write(f"Written to {o['json']}")
