"""Bounded load run of labqms (issue 9, 4d): the demo roles' everyday journeys.

Run by ``scripts/bench-load`` (gunicorn on 127.0.0.1, production settings); by hand::

    locust -f scripts/locustfile.py --headless --host http://127.0.0.1:8000 \
        -u 50 -r 5 --run-time 2m --csv var/bench/load/locust

Every user signs in through the real login form (CSRF token from the form, the password
checked by the real hasher) as one of the ``seed_demo`` accounts, then repeats its role's
journeys with a think time between clicks:

* counter staff — order list, search, an order, a new draft order with one line (write);
* technician — my tasks, a record;
* technical lead — certificates awaiting approval, a certificate, its issued PDF;
* quality lead — complaints, a complaint, audit findings;
* every member of staff — the notifications, "mark all as read" (write);
* customer — the portal's orders, requests, certificates and complaints, and an online
  request for one instrument (write);
* the public — the certificate verification page, with real number + code pairs that the
  technical leads' visits find (at most ``VERIFY_LOOKUPS`` look-ups, under the page's
  per-address rate limit: every virtual user comes from 127.0.0.1).

About a fifth of the requests are writes (POSTs besides the sign-in); a write journey is
three requests, as in a browser: the form, the POST, the page it redirects to.  The
orders and requests it creates carry ``MARK`` as instrument name.  Ids are taken from links on
the pages just visited, never guessed, so the same file runs on the demo data and on
``scale_data``'s millions of rows.

The server is run as in production behind a TLS proxy (``DJANGO_BEHIND_TLS_PROXY=1``):
each request carries ``X-Forwarded-Proto: https`` as the proxy would add it, and posts
carry the ``Origin`` and ``Referer`` a browser sends, which Django's CSRF check demands on
HTTPS.  The session and CSRF cookies stay ``Secure``; only this client hands them back over the
plain-HTTP hop to 127.0.0.1.

Besides locust's own CSV, the run writes ``LABQMS_LOAD_SUMMARY`` (JSON): exact p50/p95
over all requests, over pages without the sign-in (PBKDF2 is slow on purpose), over
writes and over the steady state (once every user has started), the failed requests and
the exceptions raised inside a journey.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import statistics
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LABQMS_DEMO_PASSWORD", "labqms-demo")
# Seconds a person looks at a page before the next click.
THINK_TIME = (float(os.environ.get("LOAD_THINK_MIN", "1")), float(os.environ.get("LOAD_THINK_MAX", "4")))
VERIFY_LOOKUPS = 25  # the verification page allows 30 per address in 10 minutes
MARK = "负载测试"  # instrument name of the orders the run creates, easy to find and delete

# Every page the journeys visit, by Django URL name (tests/labqms/test_locustfile.py
# checks each against ``reverse``).  ``{pk}`` is filled from links on earlier pages.
ROUTES = {
    "login": "/accounts/login/",
    "home": "/",
    "intake:order_list": "/intake/orders/",
    "intake:order_detail": "/intake/orders/{pk}/",
    "intake:order_create": "/intake/orders/new/",
    "certificates:my_tasks": "/tasks/mine/",
    "certificates:record_list": "/records/",
    "certificates:record_detail": "/records/{pk}/",
    "certificates:certificate_queue": "/certificates/awaiting/",
    "certificates:certificate_list": "/certificates/",
    "certificates:certificate_detail": "/certificates/{pk}/",
    "certificates:certificate_download": "/certificates/{pk}/pdf/",
    "certificates:verify": "/verify/",
    "complaints:complaint_list": "/complaints/",
    "complaints:complaint_detail": "/complaints/{pk}/",
    "audits:finding_list": "/audits/findings/",
    "portal:home": "/portal/",
    "portal:order_detail": "/portal/orders/{pk}/",
    "portal:request_list": "/portal/requests/",
    "portal:request_create": "/portal/requests/new/",
    "portal:request_detail": "/portal/requests/{pk}/",
    "notifications:notification_list": "/notifications/",
    "notifications:notification_read_all": "/notifications/read-all/",
    "certificates:portal_certificates": "/portal/certificates/",
    "complaints:portal_complaints": "/portal/complaints/",
}
# Searches a counter clerk types: parts of order numbers, customers, instruments.
SEARCH_TERMS = ("WT", "医院", "血压", "2026", "心电", "泵", "YP")
VERIFY_LINK = re.compile(r"/verify/\?number=([^&\"']+)&(?:amp;)?code=([A-Z0-9]+)")


def path(name: str, pk: int | None = None) -> str:
    route = ROUTES[name]
    return route.format(pk=pk) if "{pk}" in route else route


def link_pattern(name: str) -> re.Pattern:
    """A regex for ``href``s to the route ``name``, capturing the pk."""
    before, _pk, after = ROUTES[name].partition("{pk}")
    return re.compile(r'href="' + re.escape(before) + r"(\d+)" + re.escape(after) + '"')


def ids_in(html: str, name: str) -> list[int]:
    return sorted({int(pk) for pk in link_pattern(name).findall(html)})


class FormFields(HTMLParser):
    """The POST forms of a page (named fields with the values a browser would submit
    untouched, in document order), the category datalist and the customer options."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, str]] = []
        self.categories: list[dict] = []
        self.customers: list[str] = []
        self._fields: dict[str, str] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "option" and "data-code" in a:
            self.categories.append(a)
            return
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._fields = {}
            self.forms.append(self._fields)
            return
        fields, name = self._fields, a.get("name")
        if fields is None:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            if self._select == "customer" and value:
                self.customers.append(value)
            if self._select_first is None:
                self._select_first = value
                fields.setdefault(self._select, value)
            if "selected" in a:
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._fields = None

    def handle_data(self, data):
        if self._textarea and self._fields is not None:
            self._fields[self._textarea] += data

    def form_with(self, field: str) -> dict[str, str]:
        """The fields of the POST form that has ``field`` (the page also has the sign-out
        and language forms)."""
        return dict(next((form for form in self.forms if field in form), {}))


def parse_form(html: str) -> FormFields:
    parser = FormFields()
    parser.feed(html)
    return parser


# --- figures --------------------------------------------------------------------------

SAMPLES: dict[str, list[float]] = {"all": [], "pages": [], "writes": [], "login": [], "steady": []}
FAILED: list[str] = []  # requests that failed (status, refused form, signed out)
EXCEPTIONS: list[str] = []  # errors raised inside a journey (a page without what it needs)
STARTED = [0.0]
SPAWNED = [0.0]  # when the last user had started (and signed in, near enough)


@events.test_start.add_listener
def _started(environment, **kwargs):
    STARTED[0] = time.monotonic()


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    SPAWNED[0] = time.monotonic()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    SAMPLES["all"].append(response_time)
    if name == "login" and request_type == "POST":
        SAMPLES["login"].append(response_time)
    else:
        SAMPLES["pages"].append(response_time)
    if request_type == "POST" and name != "login":
        SAMPLES["writes"].append(response_time)
    if SPAWNED[0]:
        SAMPLES["steady"].append(response_time)
    if exception is not None:
        FAILED.append(f"{request_type} {name}: {exception}")


@events.user_error.add_listener
def _user_error(user_instance, exception, tb, **kwargs):
    EXCEPTIONS.append(f"{type(user_instance).__name__}: {exception!r}")


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(elapsed: float) -> dict:
    out = {
        "elapsed_s": round(elapsed, 1),
        "failed_requests": len(FAILED),
        "exceptions": len(EXCEPTIONS),
        "first_errors": (FAILED + EXCEPTIONS)[:20],
    }
    for key, values in SAMPLES.items():
        out[key] = {
            "requests": len(values),
            "per_s": round(len(values) / elapsed, 1) if elapsed else None,
            "p50_ms": _round(_percentile(values, 0.50)),
            "p95_ms": _round(_percentile(values, 0.95)),
            "mean_ms": _round(statistics.fmean(values)) if values else None,
            "max_ms": _round(max(values)) if values else None,
        }
    total = len(SAMPLES["all"]) - len(SAMPLES["login"])
    out["write_share"] = round(len(SAMPLES["writes"]) / total, 3) if total else None
    return out


def _round(value):
    return None if value is None else round(value, 1)


@events.test_stop.add_listener
def _write_summary(environment, **kwargs):
    target = os.environ.get("LABQMS_LOAD_SUMMARY")
    if target:
        with open(target, "w", encoding="utf-8") as file:
            json.dump(summary(time.monotonic() - STARTED[0]), file, indent=2, ensure_ascii=False)


# --- users ----------------------------------------------------------------------------


class LabUser(HttpUser):
    """A signed-in member of the lab (or a customer); ``usernames`` are taken in turn."""

    abstract = True
    wait_time = between(*THINK_TIME)
    usernames: tuple[str, ...] = ()

    def on_start(self):
        self.client.headers["X-Forwarded-Proto"] = "https"
        self.client.headers["Accept-Language"] = "zh-hans"
        if self.usernames:
            self.login(next(self._turns()))

    @classmethod
    def _turns(cls):
        if "_cycle" not in cls.__dict__:
            cls._cycle = itertools.cycle(cls.usernames)
        return cls._cycle

    def _origin(self) -> str:
        return f"https://{urlsplit(self.host).netloc}"

    def _cookies_over_http(self):
        # The session and CSRF cookies are Secure; requests would withhold them on the
        # plain-HTTP hop from the "proxy" to 127.0.0.1.
        for cookie in self.client.cookies:
            cookie.secure = False

    def get(self, name: str, pk: int | None = None, *, params=None, label: str | None = None):
        """GET a page; a bounce to the login form counts as a failure."""
        self._cookies_over_http()
        with self.client.get(path(name, pk), params=params, name=label or name, catch_response=True) as response:
            if response.ok and urlsplit(response.url).path == ROUTES["login"] and name != "login":
                response.failure("signed out: redirected to the login page")
            return response

    def post(self, name: str, data: dict, *, referer: str) -> str | None:
        """POST a form as a browser does; success is the redirect a saved form answers
        with (its target path is returned), anything else a failure."""
        self._cookies_over_http()
        target = path(name)
        headers = {"Origin": self._origin(), "Referer": self._origin() + referer}
        with self.client.post(
            target, data=data, headers=headers, name=name, allow_redirects=False, catch_response=True
        ) as response:
            location = urlsplit(response.headers.get("Location", "")).path
            if response.status_code in (302, 303) and location not in ("", target, ROUTES["login"]):
                return location
            if response.ok:
                # The form came back (200 with errors) instead of the redirect to the result.
                response.failure(f"form refused: {_first_error(response.text)}")
            else:
                response.failure(f"{response.status_code} {response.reason}")
            return None

    def login(self, username: str):
        page = self.get("login")
        form = parse_form(page.text)
        data = {**form.form_with("username"), "username": username, "password": PASSWORD}
        if self.post("login", data, referer=ROUTES["login"]) is not None:
            self.get("home")


class StaffUser(LabUser):
    abstract = True

    @task(4)
    def read_notifications(self):
        """The bell: the notification list, "mark all as read" (a write), back to the list."""
        self.get("notifications:notification_list")
        if self.post("notifications:notification_read_all", self._csrf(), referer=ROUTES["notifications:notification_list"]):
            self.get("notifications:notification_list")

    def _csrf(self) -> dict:
        return {"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")}


def _first_error(html: str) -> str:
    match = re.search(r'class="[^"]*(?:invalid-feedback|alert-danger|errorlist)[^"]*"[^>]*>(.*?)<', html, re.S)
    return " ".join(match.group(1).split())[:200] if match else "no error shown"


class CounterStaff(StaffUser):
    weight = 14
    usernames = ("counter",)
    order_ids: list[int] = []

    @task(2)
    def order_list(self):
        page = self.get("intake:order_list")
        self.order_ids[:] = ids_in(page.text, "intake:order_detail")[:50] or self.order_ids

    @task(2)
    def search_orders(self):
        self.get("intake:order_list", params={"q": random.choice(SEARCH_TERMS)}, label="intake:order_list?q")

    @task(2)
    def open_order(self):
        if not self.order_ids:
            return self.order_list()
        self.get("intake:order_detail", random.choice(self.order_ids))

    @task(10)
    def create_draft_order(self):
        """New order page, then save it as a draft with one instrument line (R-INT-1)."""
        page = self.get("intake:order_create")
        form = parse_form(page.text)
        category = _category_in_scope(form.categories)
        if not form.customers or category is None:
            return
        data = one_line(form.form_with("customer"), category)
        data.update({"customer": random.choice(form.customers), "contact": ""})
        saved = pk_in("intake:order_detail", self.post("intake:order_create", data, referer=ROUTES["intake:order_create"]))
        if saved:
            self.get("intake:order_detail", saved)


def one_line(data: dict, category: str) -> dict:
    """``data`` with exactly one instrument line, as a browser sends only the rows it
    shows (the management form's counts are upper case: items-TOTAL_FORMS …)."""
    data = {k: v for k, v in data.items() if not k.startswith("items-") or k.startswith("items-0-") or k.split("-", 1)[1].isupper()}
    data.update({
        "items-TOTAL_FORMS": "1",
        "items-0-instrument_name": MARK,
        "items-0-category": category,
        "items-0-model": "LOAD-1",
        "items-0-serial_number": f"LOAD-{random.randrange(10**9):09d}",
        "items-0-quantity": "1",
    })
    return data


def pk_in(route: str, path_: str | None) -> int | None:
    match = re.fullmatch(re.escape(ROUTES[route]).replace(re.escape("{pk}"), r"(\d+)"), path_ or "")
    return int(match.group(1)) if match else None


def _category_in_scope(options: list[dict]) -> str | None:
    """A category whose proposed service is in the lab's authorised scope today."""
    usable = [o for o in options if o.get("data-proposed") in (o.get("data-scoped") or "").split()]
    return random.choice(usable)["data-code"] if usable else None


class Technician(StaffUser):
    weight = 10
    usernames = ("tech1", "tech2")
    record_ids: list[int] = []

    @task(3)
    def my_tasks(self):
        page = self.get("certificates:my_tasks")
        found = ids_in(page.text, "certificates:record_detail")
        if not found:
            found = ids_in(self.get("certificates:record_list").text, "certificates:record_detail")
        self.record_ids[:] = found[:50] or self.record_ids

    @task(3)
    def open_record(self):
        if not self.record_ids:
            return self.my_tasks()
        self.get("certificates:record_detail", random.choice(self.record_ids))


class TechnicalLead(StaffUser):
    weight = 8
    usernames = ("techlead",)
    certificate_ids: list[int] = []
    verifiable: list[tuple[str, str]] = []

    @task(2)
    def approval_queue(self):
        self.get("certificates:certificate_queue")

    @task(2)
    def certificate_list(self):
        page = self.get("certificates:certificate_list")
        self.certificate_ids[:] = ids_in(page.text, "certificates:certificate_detail")[:50] or self.certificate_ids

    @task(3)
    def open_certificate_and_download(self):
        """A certificate's page; when issued, its PDF as stored at issue (R-CRT-2)."""
        if not self.certificate_ids:
            return self.certificate_list()
        pk = random.choice(self.certificate_ids)
        page = self.get("certificates:certificate_detail", pk)
        for pair in VERIFY_LINK.findall(page.text):
            if pair not in self.verifiable:
                self.verifiable.append(pair)
        if link_pattern("certificates:certificate_download").search(page.text):
            self.get("certificates:certificate_download", pk)


class QualityLead(StaffUser):
    weight = 6
    usernames = ("qualitylead",)
    complaint_ids: list[int] = []

    @task(3)
    def complaint_list(self):
        page = self.get("complaints:complaint_list")
        self.complaint_ids[:] = ids_in(page.text, "complaints:complaint_detail")[:50] or self.complaint_ids

    @task(3)
    def open_complaint(self):
        if not self.complaint_ids:
            return self.complaint_list()
        self.get("complaints:complaint_detail", random.choice(self.complaint_ids))

    @task(2)
    def findings(self):
        self.get("audits:finding_list")


class Customer(LabUser):
    weight = 8
    usernames = ("hospital1",)
    order_ids: list[int] = []

    @task(3)
    def portal_home(self):
        page = self.get("portal:home")
        self.order_ids[:] = ids_in(page.text, "portal:order_detail")[:50] or self.order_ids

    @task(2)
    def portal_order(self):
        if not self.order_ids:
            return self.portal_home()
        self.get("portal:order_detail", random.choice(self.order_ids))

    @task(2)
    def portal_certificates(self):
        self.get("certificates:portal_certificates")

    @task(1)
    def portal_requests(self):
        self.get("portal:request_list")

    @task(1)
    def portal_complaints(self):
        self.get("complaints:portal_complaints")

    @task(4)
    def submit_request(self):
        """Book work online with one instrument (R-INT-1), then see the request."""
        page = self.get("portal:request_create")
        form = parse_form(page.text)
        category = _category_in_scope(form.categories)
        if category is None:
            return
        data = one_line(form.form_with("contact_name"), category)
        data["contact_name"] = data.get("contact_name") or "负载测试联系人"
        data["contact_phone"] = data.get("contact_phone") or "025-80000001"
        saved = self.post("portal:request_create", data, referer=ROUTES["portal:request_create"])
        pk = pk_in("portal:request_detail", saved)
        if pk:
            self.get("portal:request_detail", pk)


class Public(LabUser):
    """Anyone checking a certificate they were handed; not signed in."""

    weight = 4
    lookups = itertools.count()

    @task
    def verify(self):
        pairs = TechnicalLead.verifiable
        if pairs and next(self.lookups) < VERIFY_LOOKUPS:
            number, code = random.choice(pairs)
            self.get("certificates:verify", params={"number": number, "code": code}, label="certificates:verify?number")
        else:
            self.get("certificates:verify")
