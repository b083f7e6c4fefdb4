"""Synthetic data at scale: ``manage.py scale_data --certificates 1000000 --equipment 100000
--complaints 100000`` (see ``audits.scale``).

Refuses a database that holds real data (any user who is neither a demo account nor a
synthetic one) unless ``--force``.  ``--if-missing`` does nothing when the database is
already at the asked scale, so ``make bench`` can call it every time.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from audits import scale
from labqms import audit


def real_users():
    """Users that are neither ``seed_demo``'s accounts nor synthetic ones."""
    from labqms.management.commands.seed_demo import USERS
    from labqms.models import User

    return User.objects.exclude(username__in=[row[0] for row in USERS]).exclude(username__startswith=scale.SCALE_PREFIX)


class Command(BaseCommand):
    help = "Generate realistic synthetic data at scale (orders, samples, records, certificates, equipment, complaints)."

    def add_arguments(self, parser):
        parser.add_argument("--certificates", type=int, default=10000, help="issued certificates to reach (about)")
        parser.add_argument("--samples", type=int, default=None, help="samples (default: 2 × certificates)")
        parser.add_argument("--equipment", type=int, default=0)
        parser.add_argument("--complaints", type=int, default=0)
        parser.add_argument("--actions", type=int, default=None,
                            help="corrective actions (default: 1 per 500 certificates, at least 50)")
        parser.add_argument("--customers", type=int, default=None, help="customers (default: 1 per 500 certificates, 20–3000)")
        parser.add_argument("--years", type=int, default=5, help="the data spans this many years up to today")
        parser.add_argument("--seed", type=int, default=20260101)
        parser.add_argument("--batch", type=int, default=10000, help="samples (or equipment, complaints) per transaction")
        parser.add_argument("--bulk", choices=["auto", "on", "off"], default="auto",
                            help="PostgreSQL: one transaction with constraints and indexes rebuilt at the end "
                                 "(auto: from 100 000 rows)")
        parser.add_argument("--password", default=None, help="password of the synthetic staff (default: none, unusable)")
        parser.add_argument("--if-missing", action="store_true", help="do nothing when the database is already at this scale")
        parser.add_argument("--force", action="store_true", help="run even though the database holds real data")

    def handle(self, *args, **o):
        from certificates.models import Certificate
        from complaints.models import Complaint
        from equipment.models import Equipment

        certificates = o["certificates"]
        samples = o["samples"] if o["samples"] is not None else 2 * certificates
        actions = o["actions"] if o["actions"] is not None else max(50, certificates // 500)
        customers = o["customers"] if o["customers"] is not None else min(3000, max(20, certificates // 500))
        if o["if_missing"]:
            have = {
                "certificates": Certificate.objects.filter(record__performer__username__startswith=scale.SCALE_PREFIX).count(),
                "equipment": Equipment.objects.count(),
                "complaints": Complaint.objects.count(),
            }
            # In-flight work at the end leaves a fraction of a percent without a certificate yet.
            if have["certificates"] >= 0.99 * certificates and have["equipment"] >= o["equipment"] \
                    and have["complaints"] >= o["complaints"]:
                self.stdout.write(f"Already at scale ({have}); nothing to do.")
                return
        if not o["force"]:
            others = list(real_users().values_list("username", flat=True)[:5])
            if others:
                raise CommandError(
                    f"This database holds real data (users such as {', '.join(others)}); scale_data adds synthetic "
                    "orders and certificates to it only with --force."
                )
        rng = random.Random(o["seed"])
        now = timezone.now()
        today = timezone.localdate(now)
        start = today - dt.timedelta(days=365 * o["years"])
        started = time.monotonic()
        last = [0.0]

        def progress(what):
            if isinstance(what, scale.Work):
                if time.monotonic() - last[0] < 5:
                    return
                last[0] = time.monotonic()
                c = what.counts
                what = (f"orders {c['orders']:,} · samples {c['samples']:,} · certificates {c['certificates']:,} "
                        f"({c['issued']:,} issued)")
            self.stdout.write(f"[{time.monotonic() - started:6.0f} s] {what} — {writer.rate()}")
            self.stdout.flush()

        with audit.source("command:scale_data"):
            # The calendar reaches back far enough for complaints (≤ 9 999 a year) and ahead for due dates.
            complaint_years = max(o["years"], -(-o["complaints"] // 9000))
            cal = scale.Calendar(today - dt.timedelta(days=366 * complaint_years + 30), today + dt.timedelta(days=400))
            ref = scale.Reference(rng, customers=customers, start=start - dt.timedelta(days=30), password=o["password"])
            pdf = scale.placeholder_pdf()
            bulk = connection.vendor == "postgresql" and (
                o["bulk"] == "on" or (o["bulk"] == "auto" and samples + o["equipment"] + o["complaints"] >= 100_000))
            writer = scale.Writer(bulk=bulk)
            self.stdout.write(f"Generating on {connection.vendor}: about {certificates:,} certificates, {samples:,} samples, "
                              f"{o['equipment']:,} equipment, {o['complaints']:,} complaints, {actions:,} actions, "
                              f"{len(ref.customers):,} customers")
            if certificates and samples:
                work = scale.Work(writer, ref, cal, rng, now=now, first_day=cal.at_or_before(start) + 1,
                                  samples=samples, certificates=certificates, pdf=pdf)
                work.run(batch=o["batch"], progress=progress)
                last[0] = 0
                progress(work)
            if o["equipment"]:
                scale.equipment(writer, ref, cal, rng, o["equipment"], batch=o["batch"], progress=progress)
            if o["complaints"]:
                scale.complaints(writer, ref, cal, rng, o["complaints"], years=o["years"], batch=o["batch"],
                                 progress=progress)
            if actions:
                scale.actions(writer, ref, cal, rng, actions, years=o["years"], progress=progress)
            if bulk:
                self.stdout.write("Writing the last batch, rebuilding constraints and indexes, committing …")
                self.stdout.flush()
            writer.finish()
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner; VACUUM also sets the visibility map that
            # index-only scans need (not possible inside a caller's transaction).
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            self.stdout.write(f"{command} …")
            self.stdout.flush()
            with connection.cursor() as cursor:
                for table in sorted({sink.table for sink in writer.sinks}):
                    cursor.execute(f"{command} {connection.ops.quote_name(table)}")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:,.0f} s: {writer.rate()}"))
        if o["verbosity"] > 1:
            for table, seconds in sorted(writer.seconds.items(), key=lambda kv: -kv[1]):
                self.stdout.write(f"  {table:<32} {seconds:8.1f} s")
