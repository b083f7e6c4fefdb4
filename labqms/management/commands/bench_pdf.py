"""Benchmark of HTML → PDF rendering: prints figures, asserts nothing.

Renders a staff member's authorisation and qualification record (R-PER-4) and a
three-page Chinese document full of metrology symbols, each ``--runs`` times, and prints
milliseconds per PDF, pages and bytes.  Use it to compare machines or to spot a missing
libharfbuzz-subset (CJK font subsetting then becomes several times slower).
"""

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone, translation

from labqms import pdf
from labqms.selectors import people as selectors

# Enough rows of the readings table for three A4 pages.
READING_ROWS = 95

CHINESE_DOCUMENT = """{% extends "pdf/base.html" %}
{% block header_right %}JJG 161-2010 · 标准水银温度计{% endblock %}
{% block content %}
<h1>检定原始记录（性能测试）</h1>
<p>环境条件：温度 (20 ± 2) ℃，相对湿度 ≤ 65 %RH；允许误差 ≤ ±0.5‰；分辨力 0.1 µm；
绝缘电阻 ≥ 20 MΩ；面积单位 m²，体积单位 m³；读数取 ½ 分度。</p>
<table>
  <thead><tr><th>序号</th><th>标准值 ℃</th><th>示值 ℃</th><th>误差 ℃</th>
  <th>扩展不确定度 U (k=2)</th><th>结论</th></tr></thead>
  <tbody>
  {% for row in rows %}<tr><td>{{ row }}</td><td>{{ row }}.00</td><td>{{ row }}.02</td>
  <td>+0.02</td><td>0.05 ℃，≤ ±0.5‰</td><td>合格，符合 JJG 161 要求</td></tr>{% endfor %}
  </tbody>
</table>
{% endblock %}
"""


class Command(BaseCommand):
    help = "Render sample PDFs N times and print ms per PDF, pages and bytes."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5, help="renders per document")
        parser.add_argument(
            "--username", help="whose record to render (default: the first staff member)"
        )

    def handle(self, *args, runs, username, **options):
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        with translation.override("zh-hans"):
            self._bench("3-page Chinese document", self._chinese_document, runs)
            person = self._person(username)
            if person is None:
                self.stdout.write("person record: skipped, no staff member (run seed_demo)")
            else:
                self._bench(
                    f"person record ({person.username})", lambda: self._person_record(person), runs
                )

    def _person(self, username):
        people = selectors.staff_users().order_by("username")
        return people.filter(username=username).first() if username else people.first()

    def _chinese_document(self) -> str:
        template = engines["django"].from_string(CHINESE_DOCUMENT)
        return template.render({"rows": range(1, READING_ROWS + 1)})

    def _person_record(self, person) -> str:
        today = timezone.localdate()
        context = {**selectors.person_overview(person, today), "today": today}
        return render_to_string("pdf/labqms/person_record.html", context)

    def _bench(self, label, make_html, runs):
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            document = pdf.render_document(make_html())
            data = document.write_pdf()
            timings.append((time.perf_counter() - started) * 1000)
        # The first run also pays for fontconfig and loading the fonts; show it apart.
        warm = timings[1:] or timings
        self.stdout.write(
            f"{label}: pages {len(document.pages)}, {len(data):,} bytes; "
            f"first {timings[0]:.0f} ms, then median {statistics.median(warm):.0f} ms "
            f"(min {min(warm):.0f}, max {max(warm):.0f}) per PDF over {runs} runs"
        )
