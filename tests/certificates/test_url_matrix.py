"""Every records URL × every role (R-REC-4: records are confidential; R-TST-1/3/4, R-REC-3):

* anonymous visitors are sent to the sign-in page;
* customers and counter staff get 404 on every records page (records.view is for
  technical staff, the quality lead and the lab head only);
* pages that read (lists, details, the printable record) answer 200 to every role with
  records.view;
* issued certificates (the list, one certificate, its PDF) answer 200 to every staff
  role, counter staff included (certificates.view: the counter hands them over);
* the method and template forms open for the technical lead only; the others are refused
  (a message and a redirect, 403 or 404) and see no form;
* the data-entry page opens for the record's performer; anyone else is sent to the
  record's read view;
* actions are POST-only (405 on GET); who may not act is refused and nothing is written.

The URL list comes from the resolver, so a new certificates URL without a row in
``GATES`` fails ``test_every_certificates_url_has_a_gate``.
"""

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import get_resolver, reverse

from certificates.demo import ring_png
from certificates.models import (
    Correction,
    Method,
    Reading,
    Record,
    RecordCheck,
    RecordEquipment,
    RecordTemplate,
    Seal,
    SealKind,
    Task,
)
from certificates.services import certificates as certificate_services
from certificates.services import methods as method_services
from certificates.services import records as record_services
from certificates.services import tasks as task_services
from equipment.models import EquipmentUse
from labqms import permissions
from labqms.models import Activity, AuditEvent, Role
from tests.certificates.conftest import PASSWORD
from tests.certificates.test_archive_views import new_sample as new_sample  # noqa: F401
from tests.certificates.test_archive_views import sign_in_the_past
from tests.certificates.test_archive_views import start_record as start_record  # noqa: F401
from tests.factories import AuthorisationFactory

NAMESPACE = "certificates"

# URL name -> (who is an insider, kind).  Insiders: a permission, or "performer" /
# "checker" (of the record or task the URL names), or "corrector" (the performer or the
# technical lead, ``services.records.may_correct``).
# Kinds: "read" — GET, insiders get 200; "manage" — GET form, the technical lead gets 200,
# refused staff 302/403/404; "page" — GET form of an action, insiders 200/302; "entry" —
# the performer gets 200, other staff a redirect to the record's read view; "post" —
# POST-only action; "public" — everyone, anonymous included, gets 200; "portal" — customer
# accounts only (their own organisation's documents), every staff member gets 404;
# "staff_read" — every staff role, counter staff included, gets 200 (issued certificates).
GATES = {
    # public: anyone holding a certificate verifies it, signed in or not
    "certificates:verify": (None, "public"),
    # methods and record templates
    "certificates:method_list": ("records.view", "read"),
    "certificates:method_create": ("records.manage_methods", "manage"),
    "certificates:method_detail": ("records.view", "read"),
    "certificates:method_edit": ("records.manage_methods", "manage"),
    "certificates:method_approve": ("records.manage_methods", "post"),
    "certificates:method_withdraw": ("records.manage_methods", "post"),
    "certificates:template_create": ("records.manage_methods", "manage"),
    "certificates:template_detail": ("records.view", "read"),
    "certificates:template_edit": ("records.manage_methods", "manage"),
    "certificates:template_approve": ("records.manage_methods", "post"),
    "certificates:template_new_version": ("records.manage_methods", "post"),
    # tasks
    "certificates:task_list": ("records.view", "read"),
    "certificates:my_tasks": ("records.view", "read"),
    "certificates:unassigned": ("records.view", "read"),
    "certificates:task_assign": ("records.assign", "page"),
    "certificates:task_start": ("performer", "post"),
    "certificates:task_reassign": ("records.assign", "page"),
    "certificates:task_cancel": ("records.assign", "post"),
    # the original record
    "certificates:record_detail": ("records.view", "read"),
    "certificates:record_entry": ("performer", "entry"),
    "certificates:record_environment": ("performer", "post"),
    "certificates:record_equipment_add": ("performer", "post"),
    "certificates:record_equipment_remove": ("performer", "post"),
    "certificates:record_readings": ("performer", "post"),
    "certificates:record_uncertainty": ("performer", "post"),
    "certificates:record_inspections": ("performer", "post"),
    "certificates:record_conclusion": ("performer", "post"),
    "certificates:record_sign": ("performer", "post"),
    "certificates:record_check": ("checker", "post"),
    "certificates:record_return": ("checker", "post"),
    "certificates:record_correct": ("corrector", "page"),
    # the archive
    "certificates:record_list": ("records.view", "read"),
    "certificates:record_pdf": ("records.view", "read"),
    "certificates:record_dispose": ("records.dispose", "post"),
    # seals and their usage log (R-CRT-7)
    "certificates:seal_list": ("records.view", "read"),
    "certificates:seal_create": ("records.manage_methods", "manage"),
    "certificates:seal_edit": ("records.manage_methods", "manage"),
    "certificates:seal_image": ("records.view", "read"),
    "certificates:seal_uses": ("records.view", "read"),
    # the customer's certificates in the portal (R-INT-9)
    "certificates:portal_certificates": ("portal.use", "portal"),
    "certificates:portal_certificate_download": ("portal.use", "portal"),
    # certificates for staff (issue 6): every staff member reads issued certificates (drafts
    # and the queue stay with records.view); technical staff prepare and amend; a second
    # person authorised to check records checks an amendment; authorised signatories approve
    "certificates:certificate_list": ("certificates.view", "staff_read"),
    "certificates:certificate_queue": ("records.view", "read"),
    "certificates:certificate_batch": ("records.view", "read"),
    "certificates:certificate_batch_status": ("records.view", "read"),
    "certificates:certificate_detail": ("certificates.view", "staff_read"),
    "certificates:certificate_download": ("certificates.view", "staff_read"),
    "certificates:certificate_batch_approve": ("certificates.sign", "post"),
    "certificates:certificate_check": ("records.check", "post"),
    "certificates:certificate_approve": ("certificates.sign", "post"),
    "certificates:certificate_supplement": ("certificates.prepare", "post"),
    "certificates:certificate_replace": ("certificates.prepare", "post"),
    "certificates:certificate_prepare": ("certificates.prepare", "post"),
}
POST_ONLY = {name for name, (_gate, kind) in GATES.items() if kind == "post"}
ROLES = ["anonymous", "customer", "counter", "performer", "checker", "technician", "techlead", "qualitylead", "head"]
STAFF = [r for r in ROLES if r not in ("anonymous", "customer", "counter")]


def _url_names(namespace):
    resolver = get_resolver().namespace_dict[namespace][1]
    return sorted(f"{namespace}:{p.name}" for p in resolver.url_patterns if p.name)


def test_every_certificates_url_has_a_gate():
    names = set(_url_names(NAMESPACE))
    assert names == set(GATES), {"missing": names - set(GATES), "stale": set(GATES) - names}


@pytest.fixture
def world(
    monkeypatch, record, method, template, cal_method, cal_template, method_lead, performer, checker, fill,
    new_sample, start_record, assigner, technician, qualitylead, head, counter, customer, settings, tmp_path,
):
    settings.MEDIA_ROOT = tmp_path  # uploaded and issued files of the matrix stay out of var/media
    seal = Seal.objects.create(kind=SealKind.TESTING, name="检测专用章", custodian=method_lead, image=ContentFile(ring_png(), name="s.png"))
    # The printable record's layout is tested in test_archive_views; here only who gets it.
    monkeypatch.setattr("labqms.pdf.html_to_pdf", lambda html, base_url=None: b"%PDF-fake")
    draft_method = method_services.save_method(
        actor=method_lead, categories=[],
        data={"code": "JJG 1000", "edition": "2026", "title": "草稿方法", "kind": "verification", "effective_on": "2026-01-01"},
    )
    draft_template = method_services.new_version(actor=method_lead, template=template)
    signed = fill(start_record(new_sample(), method))
    record_services.sign_record(actor=performer, record=signed, password=PASSWORD)
    old = sign_in_the_past(fill(start_record(new_sample(), method)))
    assigned = task_services.assign_task(
        actor=assigner, sample=new_sample(), method=method, performer=performer, checker=checker
    )
    # Certificates (issue 6): an issued one and a draft; the technical lead signs.
    AuthorisationFactory(person=method_lead, activity=Activity.SIGN_CERTIFICATES, authorised_by=head)
    checked = []
    for _ in range(2):
        done = fill(start_record(new_sample(), method))
        record_services.sign_record(actor=performer, record=done, password=PASSWORD)
        record_services.check_record(actor=checker, record=done, password=PASSWORD)
        checked.append(done)
    issued = certificate_services.approve(
        actor=method_lead, certificate=certificate_services.prepare(actor=performer, record=checked[0]), password=PASSWORD
    )
    draft_certificate = certificate_services.prepare(actor=performer, record=checked[1])
    ids = {
        "method": method.pk, "draft_method": draft_method.pk, "cal_method": cal_method.pk, "template": template.pk,
        "draft_template": draft_template.pk, "task": assigned.pk, "record": record.pk, "signed": signed.pk,
        "old": old.pk, "entry": record.equipment_used.get().pk, "seal": seal.pk,
        "issued_certificate": issued.pk, "draft_certificate": draft_certificate.pk,
    }
    users = {
        "anonymous": None, "customer": customer, "counter": counter, "performer": performer, "checker": checker,
        "technician": technician, "techlead": method_lead, "qualitylead": qualitylead, "head": head,
    }
    return ids, users


KWARGS = {
    "method_detail": "method", "method_edit": "draft_method", "method_approve": "draft_method",
    "method_withdraw": "method", "template_create": "cal_method", "template_detail": "template",
    "template_edit": "draft_template", "template_approve": "draft_template", "template_new_version": "template",
    "task_start": "task", "task_reassign": "task", "task_cancel": "task",
    "record_check": "signed", "record_return": "signed", "record_correct": "signed", "record_dispose": "old",
    "seal_edit": "seal", "seal_image": "seal",
    "certificate_detail": "issued_certificate", "certificate_download": "issued_certificate",
    "certificate_approve": "draft_certificate", "certificate_check": "draft_certificate",
    "certificate_supplement": "issued_certificate",
    "certificate_replace": "issued_certificate",
}


# Query strings a page needs to show its form (the value to correct).
QUERY = {"certificates:record_correct": "?field=conclusion"}


def _kwargs(name, ids):
    short = name.split(":")[1]
    pattern = next(p for p in get_resolver().namespace_dict[NAMESPACE][1].url_patterns if p.name == short)
    groups = pattern.pattern.regex.groupindex
    kwargs = {}
    if "pk" in groups:
        kwargs["pk"] = ids[KWARGS.get(short, "record")]
    if "entry" in groups:
        kwargs["entry"] = ids["entry"]
    return kwargs


def _counts():
    return (
        AuditEvent.objects.count(), Record.objects.count(), Reading.objects.count(), Correction.objects.count(),
        RecordCheck.objects.count(), RecordEquipment.objects.count(), EquipmentUse.objects.count(),
        sorted(Record.objects.values_list("pk", "status")), sorted(Task.objects.values_list("pk", "status", "performer")),
        sorted(Method.objects.values_list("pk", "status")), sorted(RecordTemplate.objects.values_list("pk", "status")),
    )


def _insider(role, user, gate):
    if user is None:
        return False
    if gate == "performer":
        return role == "performer"
    if gate == "checker":
        return role == "checker"
    if gate == "corrector":
        return role in ("performer", "techlead")
    return permissions.can(user, gate)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(GATES))
def test_url_matrix(name, world, client):
    """Who reaches each records URL, who gets 404, who is refused without a trace."""
    ids, users = world
    gate, kind = GATES[name]
    url = reverse(name, kwargs=_kwargs(name, ids)) + QUERY.get(name, "")
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
        if kind == "public":
            assert status == 200 and after == before, where
            continue
        insider = _insider(role, user, gate)
        if user is None:
            assert status == 302 and "/accounts/login/" in response["Location"], where
        elif kind == "staff_read" and role == "counter":
            assert status == 200, where  # the counter hands issued certificates over
        elif role in ("customer", "counter"):
            assert status == 404, where  # outsiders learn nothing
        elif kind == "portal":
            assert status == 404, where  # staff are not customers
        elif kind in ("read", "staff_read"):
            assert status == 200, where
        elif kind == "entry":
            if insider:
                assert status == 200, where
            else:
                assert status == 302, where
                assert response["Location"] == reverse("certificates:record_detail", args=[ids["record"]]), where
        elif kind == "manage" and insider:
            assert status == 200, where
        elif insider:
            assert status in (200, 302), where
        else:
            # Staff who may look but not act: refused, no form, nothing written.
            assert status in ((302, 403, 404) if kind in ("manage", "page") else (200, 302, 403, 404)), where
            assert after == before, f"{where} wrote {before} -> {after}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_urls_refuse_get(name, world, client):
    """Actions that change something are POST-only (no change by following a link)."""
    ids, users = world
    for role in ("techlead", "performer", "head"):
        client.force_login(users[role])
        before = _counts()
        assert client.get(reverse(name, kwargs=_kwargs(name, ids))).status_code == 405, f"{name} as {role}"
        assert _counts() == before


@pytest.mark.django_db
def test_the_roles_are_what_the_matrix_assumes(world):
    """Guards the matrix: every staff role reads records, counter staff and customers do
    not; the manage/dispose permissions have both insiders and refused staff."""
    _, users = world
    staff = [users[r] for r in STAFF]
    assert all(permissions.can(u, "records.view") for u in staff)
    assert not permissions.can(users["counter"], "records.view")
    assert not permissions.can(users["customer"], "records.view")
    for gate in ("records.manage_methods", "records.dispose", "records.assign"):
        assert any(permissions.can(u, gate) for u in staff) and not all(permissions.can(u, gate) for u in staff), gate
    assert [r for r in STAFF if permissions.can(users[r], "records.manage_methods")] == ["techlead"]
    assert [r for r in STAFF if permissions.can(users[r], "records.dispose")] == ["head"]
    assert users["head"].has_role(Role.LAB_HEAD)
