"""Every complaints URL × every role (R-CMP-1..7, the issue's permission matrix):

* anonymous visitors are sent to the sign-in page from every staff and portal page; the
  public complaint form and its thank-you page answer everyone;
* customers get 404 on every staff page (outsiders learn nothing); a customer account
  reads its organisation's complaints in the portal and opens the portal form, where
  every staff role gets 404;
* every staff role — counter staff included, whoever takes the call — reads the list, a
  complaint, its PDF file and its attachments, and opens the registration form;
* a step (POST-only) is offered to its insiders only: posted empty by an insider, the
  page comes back (200) with the refusal on the form; anyone else on the staff is sent
  back to the complaint page with a message (302); either way nothing is written.
  Insiders: the quality lead authorised to handle complaints (accept, dismiss, reassign, classify,
  reply, extend, compensation, close), the responsible department (findings, opinion,
  carrying out; the quality lead too), the responsible person (approves a general
  complaint's opinion), the lab head (decides compensation).

The URL list comes from the resolver, so a new complaints URL without a row in ``GATES``
fails ``test_every_complaints_url_has_a_gate``.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import get_resolver, reverse

from certificates.demo import ring_png
from complaints.models import (
    Channel,
    Compensation,
    Complaint,
    ComplaintEvent,
    Correspondence,
    Extension,
)
from complaints.services import complaints as services
from labqms import permissions
from labqms.models import AuditEvent
from tests.complaints.conftest import COMPLAINANT, DEPARTMENT
from tests.intake.conftest import hospital as hospital  # noqa: F401
from tests.intake.conftest import portal_user as portal_user  # noqa: F401

NAMESPACE = "complaints"

# URL name -> (insiders, kind, which complaint of the world it names).
# Insiders: a permission, or "department" (the responsible person, members of the
# responsible department and handlers), "proposer" (the department except its responsible
# person, who approves) or "approver" (the responsible person of a general complaint).  Kinds: "read" — GET, every staff role 200; "post" — a POST-only step;
# "public" — everyone, signed in or not, 200; "portal" — customer accounts only.
GATES = {
    "complaints:complaint_list": ("complaints.view", "read", None),
    "complaints:complaint_register": ("complaints.register", "read", None),
    "complaints:complaint_detail": ("complaints.view", "read", "registered"),
    "complaints:complaint_pdf": ("complaints.view", "read", "replied"),
    "complaints:complaint_attachment": ("complaints.view", "read", "attachment"),
    "complaints:complaint_accept": ("complaints.handle", "post", "registered"),
    "complaints:complaint_dismiss": ("complaints.handle", "post", "registered"),
    "complaints:complaint_reassign": ("complaints.handle", "post", "accepted"),
    "complaints:complaint_findings": ("department", "post", "accepted"),
    "complaints:complaint_classify": ("complaints.handle", "post", "accepted"),
    "complaints:complaint_propose_opinion": ("proposer", "post", "general"),
    "complaints:complaint_decide_opinion": ("approver", "post", "proposed"),
    "complaints:complaint_carry_out": ("department", "post", "approved"),
    "complaints:complaint_reply": ("complaints.handle", "post", "carried_out"),
    "complaints:complaint_extend": ("complaints.handle", "post", "accepted"),
    "complaints:complaint_propose_compensation": ("complaints.handle", "post", "general"),
    "complaints:compensation_decide": ("complaints.approve_compensation", "post", "compensation"),
    "complaints:complaint_close": ("complaints.handle", "post", "replied"),
    # the public online form (R-CMP-2 "online"): no sign-in
    "complaints:public_form": (None, "public", None),
    "complaints:public_thanks": (None, "public", None),
    # the customer portal: the organisation's own complaints
    "complaints:portal_complaints": ("portal.use", "portal", None),
    "complaints:portal_complaint_new": ("portal.use", "portal", None),
    "complaints:portal_complaint_detail": ("portal.use", "portal", "portal_complaint"),
}
POST_ONLY = sorted(name for name, (_gate, kind, _obj) in GATES.items() if kind == "post")
ROLES = ["anonymous", "customer", "counter", "technician", "techlead", "qualitylead", "head"]


def _url_names(namespace):
    resolver = get_resolver().namespace_dict[namespace][1]
    return sorted(f"{namespace}:{p.name}" for p in resolver.url_patterns if p.name)


def test_every_complaints_url_has_a_gate():
    names = set(_url_names(NAMESPACE))
    assert names == set(GATES), {"missing": names - set(GATES), "stale": set(GATES) - names}


@pytest.fixture
def world(counter, handler, responsible, colleague, head, techlead, portal_user, hospital):
    """A complaint at each step; the technician on the matrix is the responsible person,
    the customer a portal account of the hospital that made one of the complaints."""

    def new():
        return services.register(actor=counter, channel=Channel.HOTLINE, data=dict(COMPLAINANT))

    def accept(c):
        return services.accept(actor=handler, complaint=c, department=DEPARTMENT, responsible_person=responsible)

    def classify(c):
        services.record_findings(actor=colleague, complaint=c, findings="属实。")
        return services.classify(actor=handler, complaint=c, classification="general", substantiated=True)

    def propose(c):
        return services.propose_opinion(actor=colleague, complaint=c, opinion="致歉并更正。")

    def approve(c):
        return services.decide_opinion(actor=responsible, complaint=c, approve=True)

    def carry_out(c):
        return services.carry_out(actor=colleague, complaint=c, note="已更正。")

    attachment_complaint = services.register(
        actor=counter, channel=Channel.LETTER, data=dict(COMPLAINANT),
        attachments=[SimpleUploadedFile("photo.png", ring_png(), content_type="image/png")],
    )
    compensated = classify(accept(new()))
    compensation = services.propose_compensation(actor=handler, complaint=compensated, amount="100", agreement="免收费用。")
    replied = services.reply(actor=handler, complaint=carry_out(approve(propose(classify(accept(new()))))), text="已更正，致歉。")
    ids = {
        "registered": new().pk,
        "accepted": accept(new()).pk,
        "general": classify(accept(new())).pk,
        "proposed": propose(classify(accept(new()))).pk,
        "approved": approve(propose(classify(accept(new())))).pk,
        "carried_out": carry_out(approve(propose(classify(accept(new()))))).pk,
        "replied": replied.pk,
        "attachment": attachment_complaint.attachments.get().pk,
        "compensation": compensation.pk,
        "portal_complaint": services.register(
            actor=counter, channel=Channel.RECEPTION, data={**COMPLAINANT, "customer": hospital}
        ).pk,
    }
    users = {
        "anonymous": None, "customer": portal_user, "counter": counter, "technician": responsible,
        "techlead": techlead, "qualitylead": handler, "head": head,
    }
    return ids, users


def _url(name, ids):
    _gate, _kind, obj = GATES[name]
    return reverse(name, args=[ids[obj]] if obj else [])


def _counts():
    return (
        AuditEvent.objects.count(), ComplaintEvent.objects.count(), Correspondence.objects.count(),
        Extension.objects.count(), Complaint.objects.count(),
        sorted(Complaint.objects.values_list("pk", "status", "findings", "reply_due")),
        sorted(Compensation.objects.values_list("pk", "status")),
    )


def _insider(role, user, gate):
    if user is None:
        return False
    if gate == "department":
        return role in ("technician", "qualitylead")  # the responsible person; the quality lead handles
    if gate == "proposer":
        return role == "qualitylead"  # the department proposes; its responsible person approves instead
    if gate == "approver":
        return role == "technician"  # the responsible person of a general complaint
    return permissions.can(user, gate)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(GATES))
def test_url_matrix(name, world, client):
    """Who reaches each complaints URL, who gets 404, who is refused without a trace."""
    ids, users = world
    gate, kind, _obj = GATES[name]
    url = _url(name, ids)
    for role in ROLES:
        user = users[role]
        client.logout()
        if user is not None:
            client.force_login(user)
        with transaction.atomic():
            before = _counts()
            response = client.post(url, {}) if kind == "post" else client.get(url)
            after = _counts()
            transaction.set_rollback(True)
        status = response.status_code
        where = f"{name} as {role}: {status}"
        assert status < 500, where
        assert after == before, f"{where} wrote {before} -> {after}"
        if kind == "public":
            assert status == 200, where
        elif user is None:
            assert status == 302 and "/accounts/login/" in response["Location"], where
        elif kind == "portal":
            assert status == (200 if role == "customer" else 404), where  # staff are not customers
        elif role == "customer":
            assert status == 404, where  # outsiders learn nothing
        elif kind == "read":
            assert status == 200, where
        elif _insider(role, user, gate):
            assert status == 200, where  # the step's form, with the refusal of the empty input
        else:
            assert status == 302, where  # not offered: a message on the complaint page
            assert response["Location"].split("#")[0].endswith(f"/complaints/{_complaint_of(name, ids)}/"), where


def _complaint_of(name, ids):
    if name == "complaints:compensation_decide":
        return Compensation.objects.get(pk=ids["compensation"]).complaint_id
    return ids[GATES[name][2]]


@pytest.mark.django_db
@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_urls_refuse_get(name, world, client):
    """Steps change something: POST only (no change by following a link)."""
    ids, users = world
    for role in ("qualitylead", "technician", "head"):
        client.force_login(users[role])
        before = _counts()
        assert client.get(_url(name, ids)).status_code == 405, f"{name} as {role}"
        assert _counts() == before


@pytest.mark.django_db
def test_the_roles_are_what_the_matrix_assumes(world):
    """Guards the matrix: every staff role reads and registers complaints; only the
    authorised quality lead handles them (not the lab head without the authorisation);
    only the lab head decides compensation and major cases; customers do none of it."""
    _, users = world
    staff = [users[r] for r in ROLES if r not in ("anonymous", "customer")]
    assert all(permissions.can(u, "complaints.view") and permissions.can(u, "complaints.register") for u in staff)
    assert not permissions.can(users["customer"], "complaints.view") and permissions.can(users["customer"], "portal.use")
    assert not any(permissions.can(u, "portal.use") for u in staff)
    assert [r for r in ROLES[1:] if permissions.can(users[r], "complaints.handle")] == ["qualitylead"]
    assert [r for r in ROLES[1:] if permissions.can(users[r], "complaints.approve_compensation")] == ["head"]
    assert [r for r in ROLES[1:] if permissions.can(users[r], "complaints.approve_major")] == ["head"]
