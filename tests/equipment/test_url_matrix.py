"""Every equipment URL × every role (R-EQP-11, R-EQP-4, R-EQP-9; R-PER access rules):

* anonymous visitors are sent to the sign-in page;
* customers get 404 on every equipment page (outsiders learn nothing);
* staff who hold the URL's permission reach it (200/302, never 403/404/500);
* staff who may look but not act are refused (404, or a message with a redirect/200)
  and nothing is written: no AuditEvent, no calibration, no check-out, no decision.

The URL list comes from the resolver, so a new equipment URL without a row in ``GATES``
fails ``test_every_equipment_url_has_a_gate``.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import get_resolver, reverse

from equipment.models import (
    Calibration,
    CalibrationResult,
    CheckOut,
    CheckOutPurpose,
    CheckPlan,
    CorrectionTable,
    CriterionKind,
    Equipment,
    EquipmentUse,
    ImpactDecision,
    ImpactItem,
    ImpactTrigger,
    LogEntry,
    MeasurementStandard,
)
from equipment.services import calibration, checkout, checks, impact, register
from labqms import permissions
from labqms.models import AuditEvent

# URL name -> the permission that makes someone an insider.
GATES = {
    # register
    "equipment:equipment_list": "equipment.view",
    "equipment:equipment_export_xlsx": "equipment.view",
    "equipment:equipment_export_pdf": "equipment.view",
    "equipment:equipment_create": "equipment.manage",
    "equipment:equipment_edit": "equipment.manage",
    "equipment:standard_list": "equipment.view",
    "equipment:standard_create": "equipment.manage",
    "equipment:standard_edit": "equipment.manage",
    # one item's page and what is recorded on it
    "equipment:equipment_detail": "equipment.view",
    "equipment:equipment_status": "equipment.maintain",
    "equipment:attachment_add": "equipment.maintain",
    "equipment:calibration_add": "equipment.maintain",
    "equipment:calibration_confirm": "equipment.maintain",
    "equipment:calibration_approve": "equipment.manage",
    "equipment:corrections_set": "equipment.maintain",
    "equipment:check_plan_add": "equipment.manage",
    "equipment:maintenance_plan_add": "equipment.manage",
    "equipment:attachment_file": "equipment.view",
    "equipment:calibration_file": "equipment.view",
    "equipment:check_add": "equipment.maintain",
    "equipment:log_add": "equipment.maintain",
    "equipment:checkout": "equipment.maintain",
    "equipment:checkin": "equipment.maintain",
    # monitoring
    "equipment:labels_pdf": "equipment.view",
    "equipment:label_pdf": "equipment.view",
    "equipment:due_list": "equipment.view",
    "equipment:impact_list": "equipment.view",
    "equipment:impact_detail": "equipment.view",
    "equipment:impact_decide": "equipment.manage",
    "equipment:impact_conclude": "equipment.manage",
}
POST_ONLY = {
    "equipment:equipment_status",
    "equipment:attachment_add",
    "equipment:calibration_confirm",
    "equipment:calibration_approve",
    "equipment:check_plan_add",
    "equipment:maintenance_plan_add",
    "equipment:log_add",
    "equipment:checkin",
    "equipment:impact_decide",
    "equipment:impact_conclude",
}
ROLES = ["anonymous", "customer", "counter", "technician", "techlead", "qualitylead", "head"]


def _url_names(namespace):
    resolver = get_resolver().namespace_dict[namespace][1]
    return sorted(f"{namespace}:{p.name}" for p in resolver.url_patterns if p.name)


def test_every_equipment_url_has_a_gate():
    names = set(_url_names("equipment"))
    assert names == set(GATES), {"missing": names - set(GATES), "stale": set(GATES) - names}
    assert POST_ONLY <= set(GATES)


@pytest.fixture
def world(make_equipment, operator, lead, customer, counter, qualitylead, head, today):
    equipment = make_equipment("EQ-1", months_ago=3)
    cal = equipment.calibrations.get()
    calibration.confirm_calibration(actor=operator, calibration=cal, conclusion="fit")
    plan = checks.save_check_plan(actor=lead, equipment=equipment, interval_months=6, method="比对",
                                  criterion=CriterionKind.EN)
    away = make_equipment("EQ-2", months_ago=3)
    out = checkout.check_out(actor=operator, equipment=away, purpose=CheckOutPurpose.ON_SITE, destination="市一医院",
                             condition_ok=True, packed_ok=True)
    standard = register.save_standard(actor=lead, data={"name": "血压计检定装置", "certificate_no": "S-1",
                                                        "valid_from": today, "valid_until": None},
                                      members=[equipment])
    from equipment.services import gate

    gate.record_use(equipment=equipment, on=today, user=operator, record=cal, record_label="R-1")
    analysis = impact.open_analysis(actor=operator, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                                    detail="复测偏差大", found_on=today)
    older = calibration.record_calibration(actor=operator, equipment=equipment, provider="省计量院",
                                           certificate_no="OLD-1", calibrated_on=today - dt.timedelta(days=400),
                                           result=CalibrationResult.PASS)
    pdf = SimpleUploadedFile("cert.pdf", b"%PDF-1.4 test certificate", content_type="application/pdf")
    with_file = calibration.record_calibration(actor=operator, equipment=equipment, provider="省计量院",
                                               certificate_no="FILE-1", calibrated_on=today - dt.timedelta(days=500),
                                               result=CalibrationResult.PASS, certificate_file=pdf)
    attachment = register.add_attachment(actor=operator, equipment=equipment, title="说明书",
                                         upload=SimpleUploadedFile("manual.pdf", b"%PDF-1.4 manual"))
    nothing_used = impact.open_analysis(actor=operator, equipment=away, trigger=ImpactTrigger.SUSPECT,
                                        detail="外观损坏", found_on=today)
    ids = {
        "equipment": equipment.pk, "calibration": cal.pk, "unconfirmed": older.pk, "plan": plan.pk,
        "checkout": out.pk, "standard": standard.pk, "analysis": analysis.pk, "item": analysis.items.get().pk,
        "empty_analysis": nothing_used.pk, "custodian": operator.pk, "attachment": attachment.pk,
        "with_file": with_file.pk,
    }
    users = {
        "anonymous": None, "customer": customer, "counter": counter, "technician": operator, "techlead": lead,
        "qualitylead": qualitylead, "head": head,
    }
    return ids, users


KWARGS = {
    "calibration_confirm": "unconfirmed", "calibration_approve": "calibration", "corrections_set": "calibration",
    "check_add": "plan", "checkin": "checkout", "standard_edit": "standard", "impact_detail": "analysis",
    "impact_conclude": "empty_analysis", "impact_decide": "item", "attachment_file": "attachment",
    "calibration_file": "with_file",
}


def _kwargs(name, ids):
    pattern = next(p for p in get_resolver().namespace_dict["equipment"][1].url_patterns if f"equipment:{p.name}" == name)
    if "pk" not in pattern.pattern.regex.groupindex:
        return {}
    return {"pk": ids[KWARGS.get(name.split(":")[1], "equipment")]}


def _counts():
    return (
        AuditEvent.objects.count(), Equipment.objects.count(), MeasurementStandard.objects.count(),
        Calibration.objects.filter(approved_at__isnull=False).count(),
        Calibration.objects.filter(confirmed_at__isnull=False).count(),
        Calibration.objects.count(), CorrectionTable.objects.count(), CheckPlan.objects.count(), LogEntry.objects.count(),
        CheckOut.objects.filter(returned_at__isnull=True).count(), EquipmentUse.objects.count(),
        ImpactItem.objects.exclude(decision=ImpactDecision.PENDING).count(),
    )


def _insider(user, gate):
    return user is not None and permissions.can(user, gate)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(GATES))
def test_url_matrix(name, world, client):
    """Who reaches each equipment URL, who gets 404, who is refused without a trace."""
    ids, users = world
    gate = GATES[name]
    url = reverse(name, kwargs=_kwargs(name, ids))
    post = name in POST_ONLY
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
        if user is None:
            assert status == 302 and "/accounts/login/" in response["Location"], where
        elif role == "customer":
            assert status == 404, where  # outsiders learn nothing
        elif _insider(user, gate):
            assert status in (200, 302), where
        else:
            # Staff who may look but not act: refused (404 or a message), nothing written.
            assert status in (200, 302, 404), where
            assert after == before, f"{where} wrote {before} -> {after}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_urls_refuse_get(name, world, client):
    """Actions that change something are POST-only (no change by following a link)."""
    ids, users = world
    client.force_login(users["techlead"])
    before = _counts()
    assert client.get(reverse(name, kwargs=_kwargs(name, ids))).status_code == 405
    assert _counts() == before


@pytest.mark.django_db
def test_the_roles_are_what_the_matrix_assumes(world):
    """Guards the matrix: each staff role is an insider for "view" and each permission has
    both insiders and refused staff among the roles."""
    _, users = world
    staff = [users[r] for r in ROLES if r not in ("anonymous", "customer")]
    assert all(permissions.can(u, "equipment.view") for u in staff)
    assert not permissions.can(users["customer"], "equipment.view")
    for gate in ("equipment.maintain", "equipment.manage"):
        assert any(permissions.can(u, gate) for u in staff) and not all(permissions.can(u, gate) for u in staff)
    assert permissions.can(users["technician"], "equipment.maintain")
    assert not permissions.can(users["technician"], "equipment.manage")
    assert permissions.can(users["techlead"], "equipment.manage")


def _payload(name, ids, today):
    """A request the service would accept from someone allowed to make it."""
    day = today.isoformat()
    equipment_data = {"lab_id": "EQ-NEW", "name": "新设备", "kind": "test", "needs_calibration": "on",
                      "calibration_interval_months": "12", "custodian": ids["custodian"]}
    standard_data = {"name": "新装置", "certificate_no": "S-NEW", "measurand": "0–40 kPa", "valid_from": day,
                     "valid_until": "", "members": [ids["equipment"]]}
    return {
        "equipment:equipment_create": lambda: equipment_data,
        "equipment:equipment_edit": lambda: {**equipment_data, "lab_id": "EQ-1", "name": "改名", "reason": "更正名称"},
        "equipment:standard_create": lambda: standard_data,
        "equipment:standard_edit": lambda: {**standard_data, "certificate_no": "S-1", "name": "改名装置"},
        "equipment:equipment_status": lambda: {"status-status": "out_of_service", "status-reason": "defective",
                                               "status-note": "显示屏损坏"},
        "equipment:attachment_add": lambda: {"attachment-title": "说明书", "attachment-file": SimpleUploadedFile(
            "manual.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")},
        "equipment:calibration_add": lambda: {"provider": "省计量院", "certificate_no": "N-1", "calibrated_on": day,
                                              "result": "pass"},
        "equipment:calibration_confirm": lambda: {f"confirm{ids['unconfirmed']}-conclusion": "fit"},
        "equipment:calibration_approve": lambda: {},
        "equipment:corrections_set": lambda: {
            "unit": "kPa", "points-TOTAL_FORMS": "1", "points-INITIAL_FORMS": "0", "points-MIN_NUM_FORMS": "0",
            "points-MAX_NUM_FORMS": "500", "points-0-nominal": "0", "points-0-correction": "0.002"},
        "equipment:check_plan_add": lambda: {"plan-interval_months": "6", "plan-method": "比对", "plan-criterion": "en"},
        "equipment:maintenance_plan_add": lambda: {"maintenance-task": "清洁气路", "maintenance-interval_months": "3"},
        "equipment:check_add": lambda: {"checked_on": day, "measured": "100.01", "reference": "100",
                                        "u_measured": "0.05", "u_reference": "0.03"},
        "equipment:log_add": lambda: {"log-kind": "maintenance", "log-occurred_on": day, "log-description": "清洁"},
        "equipment:checkout": lambda: {"purpose": "on_site", "destination": "市一医院", "condition_ok": "on",
                                       "packed_ok": "on"},
        "equipment:checkin": lambda: {"return-count_ok": "on", "return-function_ok": "on",
                                      "return-calibration_ok": "on"},
        "equipment:impact_decide": lambda: {f"item-{ids['item']}-decision": "no_effect"},
        "equipment:impact_conclude": lambda: {"conclusion": "期间未使用，无影响"},
    }[name]()


WRITE_URLS = sorted(name for name, gate in GATES.items() if gate != "equipment.view")


@pytest.mark.django_db
@pytest.mark.parametrize("name", WRITE_URLS)
def test_refused_staff_cannot_act_even_with_a_valid_request(name, world, client, today):
    """R-EQP-4/R-EQP-9: the same valid request that makes the technical lead's change
    changes nothing when staff without the permission send it."""
    ids, users = world
    url = reverse(name, kwargs=_kwargs(name, ids))
    refused = [r for r in ROLES if users[r] is not None and r != "customer" and not _insider(users[r], GATES[name])]
    assert refused, name
    for role in refused + ["techlead"]:
        client.force_login(users[role])
        with transaction.atomic():
            before = _counts()
            response = client.post(url, _payload(name, ids, today))
            after = _counts()
            transaction.set_rollback(True)
        where = f"{name} as {role}: {response.status_code}"
        if role == "techlead":
            assert response.status_code == 302, where  # done, and back to the page
            assert after != before, f"{where}: the valid request changed nothing"
        else:
            assert response.status_code in (200, 302, 404), where
            assert after == before, f"{where} wrote {before} -> {after}"
