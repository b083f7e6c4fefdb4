"""Server time and SQL queries of every staff list page and each role's home page:
``manage.py bench_pages [--repeat N] [--json FILE] [--only TEXT]``.

Requests go through Django's test client in this process (``force_login`` as a user of
the role that may see the page), so the figures are the server's own time — URL
resolution, middleware, queries, template — without a network or a web server.  Each
list is measured at 25 and 100 rows per page, on page 1 and on a deep page (page 2000,
or the last page when there are fewer), plus a search and a status filter.  It prints
figures and asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import time
from urllib.parse import urlencode

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

# (url name, extra variants); every list is also measured unfiltered.  A variant is a
# dict of GET parameters; "{order}", "{sample}", "{certificate}", "{record}",
# "{complaint}" and "{customer}" are replaced by values that exist in the database.
LISTS: list[tuple[str, list[dict]]] = [
    ("intake:order_list", [{"q": "{order}"}, {"q": "{customer}"}, {"status": "accepted"}]),
    ("intake:sample_list", [{"q": "{sample}"}, {"status": "in_test"}]),
    ("intake:ready_queue", []),
    ("intake:at_risk_queue", []),
    ("intake:request_list", []),
    ("intake:customer_list", [{"q": "{customer}"}]),
    ("intake:category_list", []),
    ("certificates:task_list", [{"q": "{sample}"}, {"status": "in_progress"}]),
    ("certificates:my_tasks", []),
    ("certificates:unassigned", []),
    ("certificates:record_list", [{"q": "{record}"}, {"status": "signed"}]),
    ("certificates:certificate_list", [{"q": "{certificate}"}, {"status": "draft"}]),
    ("certificates:certificate_queue", []),
    ("certificates:method_list", []),
    ("certificates:seal_list", []),
    ("certificates:seal_uses", []),
    ("equipment:equipment_list", [{"q": "压力"}, {"status": "out_of_service"}]),
    ("equipment:standard_list", []),
    ("equipment:due_list", []),
    ("equipment:impact_list", []),
    ("complaints:complaint_list", [{"q": "{complaint}"}, {"status": "accepted"}]),
    ("audits:programme_list", []),
    ("audits:finding_list", [{"status": "action"}]),
    ("audits:action_list", []),
    ("audits:review_list", []),
    ("audits:objective_list", []),
    ("audits:survey_list", []),
    ("audits:evaluation_list", []),
    ("people:person_list", []),
    ("people:audit_list", []),
    ("notifications:notification_list", []),
]
PORTAL_LISTS = ["portal:home", "portal:request_list", "certificates:portal_certificates",
                "complaints:portal_complaints", "audits:portal_surveys"]
# Who is tried first for a page: the role that works with it, then the others.
ROLE_ORDER = ["technical_lead", "counter_staff", "quality_lead", "lab_head", "technician"]
DEMO_USERNAMES = {"technical_lead": "techlead", "counter_staff": "counter", "quality_lead": "qualitylead",
                  "lab_head": "head", "technician": "tech1", "customer": "hospital1"}
DEEP_PAGE = 2000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


class Command(BaseCommand):
    help = "Measure server time (median, p95) and SQL queries of every list page and dashboard."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=7, help="timed requests per URL (after one warm-up)")
        parser.add_argument("--json", default=None, help="also write the figures to this file")
        parser.add_argument("--only", default=None, help="only URLs whose name contains this text")
        parser.add_argument("--no-deep", action="store_true", help="skip the deep pages")
        parser.add_argument("--sizes", default="25,100", help="rows per page to measure")
        parser.add_argument("--slow", type=float, default=2.0,
                            help="a URL whose first request takes longer (seconds) is timed once, not --repeat times")

    def handle(self, *args, **o):
        import logging

        logging.getLogger("axes").setLevel(logging.WARNING)  # one login line per role is noise here
        # The test client calls itself "testserver"; production settings redirect to HTTPS.
        with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
            results = self._run(o)
        if o["json"]:
            with open(o["json"], "w", encoding="utf-8") as file:
                json.dump({"vendor": connection.vendor, "counts": self.counts, "pages": results}, file,
                          ensure_ascii=False, indent=1)
            self.stdout.write(f"Written to {o['json']}")

    def _run(self, o) -> list[dict]:
        users = self._users()
        values = self._values()
        self.counts = self._counts()
        self.stdout.write("Rows: " + ", ".join(f"{k} {v:,}" for k, v in self.counts.items()))
        sizes = [int(s) for s in o["sizes"].split(",")]
        targets: list[tuple[str, str, dict, list]] = []  # (label, url, params, candidate roles)
        for role in users:
            if role != "customer":
                targets.append((f"home ({role})", reverse("home"), {}, [role]))
        for name, variants in LISTS:
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            for size in sizes:
                targets.append((name, url, {"per_page": size}, ROLE_ORDER))
                if not o["no_deep"]:
                    targets.append((name, url, {"per_page": size, "page": DEEP_PAGE}, ROLE_ORDER))
            for variant in variants:
                params = {k: v.format(**values) for k, v in variant.items()}
                targets.append((name, url, {**params, "per_page": 25}, ROLE_ORDER))
        for name in PORTAL_LISTS:
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            targets.append((name, url, {"per_page": 25}, ["customer"]))
        if o["only"]:
            targets = [t for t in targets if o["only"] in t[0]]
        clients = {}
        for role, user in users.items():
            clients[role] = Client()
            clients[role].force_login(user)
        chosen_role: dict[str, str] = {}
        results = []
        header = f"{'page':<44} {'params':<34} {'role':<15} {'st':>3} {'median':>8} {'p95':>8} {'queries':>7}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for label, url, params, roles in targets:
            full = url + ("?" + urlencode(params) if params else "")
            role = chosen_role.get(label)
            candidates = [role] if role else [r for r in roles if r in clients]
            status = None
            for role in candidates:
                # The first request finds the role, warms the caches and counts the queries.
                with CaptureQueriesContext(connection) as queries:
                    began = time.perf_counter()
                    response = clients[role].get(full, secure=True)
                    first = (time.perf_counter() - began) * 1000
                count = len(queries)
                status = response.status_code
                if status == 200:
                    chosen_role[label] = role
                    break
            row = {"page": label, "url": full, "params": params, "role": role, "status": status}
            if status == 200:
                client = clients[role]
                times = [first]  # a very slow page is timed once: its figure is plain enough
                if first < o["slow"] * 1000:
                    times = []
                    for _ in range(o["repeat"]):
                        began = time.perf_counter()
                        client.get(full, secure=True)
                        times.append((time.perf_counter() - began) * 1000)
                row.update(queries=count, median_ms=round(statistics.median(times), 1),
                           p95_ms=round(percentile(times, 95), 1), max_ms=round(max(times), 1), timed=len(times))
            results.append(row)
            shown = urlencode({k: v for k, v in params.items()})[:34]
            if status == 200:
                self.stdout.write(f"{label:<44} {shown:<34} {role:<15} {status:>3} {row['median_ms']:>8.1f} "
                                  f"{row['p95_ms']:>8.1f} {row['queries']:>7}")
            else:
                self.stdout.write(f"{label:<44} {shown:<34} {'-':<15} {status!s:>3}")
            self.stdout.flush()
        self._summary(results)
        return results

    def _summary(self, results) -> None:
        """Pages whose query count changes with the rows shown, and the slowest pages."""
        by_page: dict[str, dict[int, int]] = {}
        for row in results:
            if row.get("queries") is not None and "per_page" in row["params"] and len(row["params"]) == 1:
                by_page.setdefault(row["page"], {})[row["params"]["per_page"]] = row["queries"]
        growing = [f"{page} ({q})" for page, q in by_page.items() if len(set(q.values())) > 1]
        self.stdout.write("")
        self.stdout.write("Queries grow with rows per page: " + (", ".join(growing) if growing else "none"))
        timed = [r for r in results if r.get("p95_ms") is not None]
        over = [r for r in timed if r["p95_ms"] > 150]
        self.stdout.write(f"Over 150 ms at p95: {len(over)} of {len(timed)}")
        for r in sorted(over, key=lambda r: -r["p95_ms"]):
            self.stdout.write(f"  {r['p95_ms']:>8.1f} ms  {r['url']}")

    def _users(self) -> dict:
        from audits.scale import SCALE_PREFIX, STAFF
        from labqms.models import User

        users = {}
        for suffix, role, _count, _activities, _department in STAFF:
            user = (User.objects.filter(username=f"{SCALE_PREFIX}{suffix}01", is_active=True).first()
                    or User.objects.filter(username=DEMO_USERNAMES.get(role), is_active=True).first()
                    or User.objects.filter(groups__name=role, is_active=True).order_by("pk").first())
            if user is not None:
                users[role] = user
        return users

    def _values(self) -> dict:
        """Search terms that find something: numbers from the middle of each table."""
        from certificates.models import Certificate, Record
        from complaints.models import Complaint
        from intake.models import Customer, Order, Sample

        def middle(model, field, **filters):
            top = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            value = (model.objects.filter(pk__gte=top // 2, **filters).order_by("pk").values_list(field, flat=True)
                     .first())
            return value or ""

        return {
            "order": middle(Order, "number"),
            "sample": middle(Sample, "sample_id"),
            "record": middle(Record, "number"),
            "certificate": middle(Certificate, "number", number__isnull=False),
            "complaint": middle(Complaint, "number"),
            "customer": (middle(Customer, "name") or "")[:4],
        }

    def _counts(self) -> dict:
        from certificates.models import Certificate, Record, Task
        from complaints.models import Complaint
        from equipment.models import Equipment
        from intake.models import Order, Sample

        counts = {}
        with connection.cursor() as cursor:
            for label, model in (("orders", Order), ("samples", Sample), ("tasks", Task), ("records", Record),
                                 ("certificates", Certificate), ("equipment", Equipment), ("complaints", Complaint)):
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(model._meta.db_table)}")
                counts[label] = cursor.fetchone()[0]
        return counts
