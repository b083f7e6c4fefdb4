"""Every intake and portal URL × every role (R-INT-9: staff access is role-based,
customers see only their own organisation's data).

* anonymous visitors are sent to the sign-in page (the published turnaround page is public);
* outsiders get 404 — customers on every staff page, staff on every portal page;
* staff who may look but not act are refused without any change being written;
* the people the action is meant for reach it (no 403/404/500).

The URL list comes from the resolver, so a new intake URL without a row in ``GATES``
fails ``test_every_intake_url_has_a_gate``.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import get_resolver, reverse

from intake.models import CustodyEvent, OnlineRequest, WorkLocation
from intake.services import portal as portal_services
from intake.services import samples as sample_services
from intake.services import visits as visit_services
from labqms import permissions
from labqms.models import AuditEvent
from tests.intake.conftest import line

# URL name -> the permission that makes someone an insider ("public": everyone,
# "login": any signed-in user).
GATES = {
    "intake:turnaround": "public",
    "intake:import_template": "login",
    "intake:customer_list": "intake.view",
    "intake:customer_create": "intake.receive_order",
    "intake:customer_detail": "intake.view",
    "intake:customer_edit": "intake.receive_order",
    "intake:contact_add": "intake.receive_order",
    "intake:category_list": "intake.view",
    "intake:category_create": "intake.manage_catalogue",
    "intake:category_edit": "intake.manage_catalogue",
    "intake:scope_add": "intake.manage_catalogue",
    "intake:scope_end": "intake.manage_catalogue",
    "intake:order_list": "intake.view",
    "intake:order_create": "intake.receive_order",
    "intake:order_edit": "intake.receive_order",
    "intake:order_import": "intake.receive_order",
    "intake:request_list": "intake.view",
    "intake:request_convert": "intake.receive_order",
    "intake:request_decline": "intake.receive_order",
    "intake:order_detail": "intake.view",
    "intake:order_review": "intake.review_order",
    "intake:order_reopen": "intake.review_order",
    "intake:order_confirm": "intake.receive_order",
    "intake:order_accept": "intake.receive_order",
    "intake:order_cancel": "intake.receive_order",
    "intake:order_pdf": "intake.view",
    "intake:order_notice": "intake.receive_order",
    "intake:order_payment": "intake.receive_order",
    "intake:order_credit": "intake.approve_credit",
    "intake:visit_add": "intake.receive_order",
    "intake:visit_confirm": "intake.receive_order",
    "intake:visit_handover": "intake.handle_samples",
    "intake:sample_list": "intake.view",
    "intake:sample_detail": "intake.view",
    "intake:sample_scan": "intake.view",
    "intake:order_receive": "intake.receive_order",
    "intake:sample_store": "intake.handle_samples",
    "intake:sample_hold": "intake.handle_samples",
    "intake:sample_resume": "intake.handle_samples",
    "intake:sample_return": "intake.receive_order",
    "intake:sample_in_test": "intake.handle_samples",
    "intake:sample_tested": "intake.handle_samples",
    "intake:sample_integrity": "intake.handle_samples",
    "intake:order_labels": "intake.view",
    "intake:sample_label": "intake.view",
    "intake:ready_queue": "intake.view",
    "intake:at_risk_queue": "intake.view",
    "intake:order_release": "intake.receive_order",
    "portal:home": "portal.use",
    "portal:order_detail": "portal.use",
    "portal:order_confirm": "portal.use",
    "portal:request_list": "portal.use",
    "portal:request_create": "portal.use",
    "portal:request_detail": "portal.use",
}
ROLES = ["anonymous", "customer", "counter_unauthorised", "clerk", "technician", "techlead", "qualitylead", "head"]


def _url_names(namespace):
    resolver = get_resolver().namespace_dict[namespace][1]
    return sorted(f"{namespace}:{p.name}" for p in resolver.url_patterns if p.name)


def test_every_intake_url_has_a_gate():
    names = set(_url_names("intake")) | set(_url_names("portal"))
    assert names == set(GATES), {"missing": names - set(GATES), "stale": set(GATES) - names}


@pytest.fixture
def world(make_order, categories, clerk, location, hospital, portal_user, counter, technician, techlead, qualitylead, head):
    accepted = make_order([line(categories["bp"], "BP-1"), line(categories["pump"], "P-1")])
    sample = accepted.samples.first()
    sample_services.receive_sample(actor=clerk, sample=sample, location=location)
    draft = make_order([line(categories["bp"], "BP-9")], stage="draft")
    on_site = make_order([line(categories["pump"], "P-7")], work_location=WorkLocation.ON_SITE)
    visit = visit_services.plan_visit(
        actor=clerk, order=on_site, planned_date=dt.date.today() + dt.timedelta(days=3),
        site_address="病区 3 楼", site_contact="刘洋",
    )
    request = portal_services.submit_request(
        actor=portal_user, lines=[line(categories["pump"], "P-55")], contact_name="刘洋", contact_phone="138",
    )
    ids = {
        "customer": hospital.pk, "category": categories["bp"].pk, "scope": categories["bp"].scopes.get().pk,
        "draft": draft.pk, "order": accepted.pk, "visit": visit.pk, "sample": sample.pk, "request": request.pk,
    }
    users = {
        "anonymous": None, "customer": portal_user, "counter_unauthorised": counter, "clerk": clerk,
        "technician": technician, "techlead": techlead, "qualitylead": qualitylead, "head": head,
    }
    return ids, users


NO_ARGS = {"order_create", "order_list", "sample_list", "sample_scan", "request_list", "request_create"}


def _kwargs(name, ids):
    short = name.split(":")[1]
    if short in NO_ARGS:
        return {}
    if short in {"customer_detail", "customer_edit", "contact_add"}:
        return {"pk": ids["customer"]}
    if short in {"category_edit", "scope_add"}:
        return {"pk": ids["category"]}
    if short == "scope_end":
        return {"pk": ids["scope"]}
    if short in {"order_edit", "order_import", "order_review", "order_cancel"}:
        return {"pk": ids["draft"]}
    if short in {"visit_confirm", "visit_handover"}:
        return {"pk": ids["visit"]}
    if short.startswith("sample_") and short not in {"sample_list", "sample_scan"}:
        return {"pk": ids["sample"]}
    if short.startswith("request_") and short not in {"request_list", "request_create"}:
        return {"pk": ids["request"]}
    if short.startswith("order_") or short == "visit_add":
        return {"pk": ids["order"]}
    return {}


POST_ONLY = {
    "intake:contact_add",
    "intake:order_reopen",
    "intake:order_cancel",
    "intake:order_accept",
    "intake:order_payment",
    "intake:order_credit",
    "intake:visit_add",
    "intake:visit_confirm",
    "intake:visit_handover",
    "intake:request_decline",
    "intake:sample_store",
    "intake:sample_hold",
    "intake:sample_resume",
    "intake:sample_return",
    "intake:sample_in_test",
    "intake:sample_tested",
    "intake:sample_integrity",
    "portal:order_confirm",
}


def _insider(user, gate):
    if gate == "public":
        return True
    if user is None:
        return False
    if gate == "login":
        return True
    return permissions.can(user, gate)


def _counts():
    return AuditEvent.objects.count(), CustodyEvent.objects.count(), OnlineRequest.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(GATES))
def test_url_matrix(name, world, client):
    """R-INT-9: who reaches each intake/portal URL, who gets 404, who is refused."""
    ids, users = world
    gate = GATES[name]
    url = reverse(name, kwargs=_kwargs(name, ids))
    post = name in POST_ONLY
    staff_page = name.startswith("intake:") and gate not in {"public", "login"}
    for role in ROLES:
        user = users[role]
        client.logout()
        if user is not None:
            client.force_login(user)
        with transaction.atomic():
            before = _counts()
            response = client.post(url, {}) if post else client.get(url)
            after = _counts()
            transaction.set_rollback(True)
        status = response.status_code
        where = f"{name} as {role}: {status}"
        assert status < 500, where
        if user is None and gate != "public":
            assert status == 302 and "/accounts/login/" in response["Location"], where
        elif role == "customer" and staff_page:
            assert status == 404, where  # outsiders learn nothing
        elif name.startswith("portal:") and role != "customer":
            assert status == 404, where
        elif _insider(user, gate):
            assert status in (200, 302), where
        else:
            # Staff who may look but not act: refused (404 or a message), nothing written.
            assert status in (200, 302, 404), where
            assert after == before, f"{where} wrote {before} -> {after}"
