"""Impact analysis — reverse traceability (R-EQP-4, ISO/IEC 17025 7.7/7.10): when
equipment fails a calibration or an intermediate check, or is stopped for suspect
results, every record that used it from its last good calibration/check (inclusive) to
the day the problem was found (inclusive) is listed; the technical lead decides per item;
the quality lead is told.  Usage snapshots are created directly, as [Records] will."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from equipment.models import (
    CalibrationResult,
    CriterionKind,
    EquipmentStatus,
    EquipmentUse,
    ImpactAnalysis,
    ImpactDecision,
    ImpactStatus,
    ImpactTrigger,
    StopReason,
)
from equipment.services import calibration, checks, impact, status
from labqms import audit
from labqms.models import Notification

DAY = dt.timedelta(days=1)


def use(equipment, on, user, label):
    return EquipmentUse.objects.create(
        equipment=equipment, used_on=on, used_by=user, record_type=ContentType.objects.get_for_model(equipment),
        record_id=str(equipment.pk), record_label=label, snapshot={"lab_id": equipment.lab_id},
    )


@pytest.fixture
def dates(today):
    """good = last good calibration; found = the day the problem is found (both in the past)."""
    return {"good": today - 100 * DAY, "found": today - 10 * DAY}


@pytest.fixture
def uses(make_equipment, operator, dates):
    """EQ-1 calibrated OK on ``good``; uses the day before, on, between, on ``found`` and
    after it; EQ-2 used in the same period."""
    equipment = make_equipment("EQ-1", calibrated_on=dates["good"])
    other = make_equipment("EQ-2", calibrated_on=dates["good"])
    good, found = dates["good"], dates["found"]
    made = {
        "before": use(equipment, good - DAY, operator, "R-before"),
        "on_good": use(equipment, good, operator, "R-on-good"),
        "between": use(equipment, good + 40 * DAY, operator, "R-between"),
        "on_found": use(equipment, found, operator, "R-on-found"),
        "after": use(equipment, found + DAY, operator, "R-after"),
        "other": use(other, good + 40 * DAY, operator, "R-other-equipment"),
    }
    return equipment, made


def listed(analysis):
    return [item.use.record_label for item in analysis.items.select_related("use")]


EXPECTED = ["R-on-good", "R-between", "R-on-found"]


@pytest.mark.django_db
def test_a_failed_check_lists_exactly_the_uses_since_the_last_good_calibration(uses, dates, lead, operator):
    """Reverse traceability: from the last good calibration (inclusive) to the failed
    check (inclusive); uses before, after and of other equipment never appear."""
    equipment, _ = uses
    plan = checks.save_check_plan(actor=lead, equipment=equipment, interval_months=6, method="比对",
                                  criterion=CriterionKind.TOLERANCE, tolerance=Decimal("0.5"), unit="mmHg")
    checks.record_check(actor=operator, plan=plan, checked_on=dates["found"], measured="101", reference="100")
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert (analysis.trigger, analysis.since, analysis.found_on) == (ImpactTrigger.FAILED_CHECK, dates["good"], dates["found"])
    assert listed(analysis) == EXPECTED
    assert all(item.decision == ImpactDecision.PENDING for item in analysis.items.all())
    equipment.refresh_from_db()
    assert equipment.status == EquipmentStatus.OUT_OF_SERVICE


@pytest.mark.django_db
def test_a_failed_calibration_lists_the_same_window(uses, dates, operator):
    equipment, _ = uses
    calibration.record_calibration(actor=operator, equipment=equipment, provider="省计量院", certificate_no="F-1",
                                   calibrated_on=dates["found"], result=CalibrationResult.FAIL)
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert (analysis.trigger, analysis.since) == (ImpactTrigger.FAILED_CALIBRATION, dates["good"])
    assert listed(analysis) == EXPECTED


@pytest.mark.django_db
def test_a_passed_intermediate_check_moves_the_start_of_the_window(uses, dates, lead, operator):
    """The last good calibration *or check*: a passed check later than the calibration starts the window."""
    equipment, made = uses
    plan = checks.save_check_plan(actor=lead, equipment=equipment, interval_months=6, method="比对",
                                  criterion=CriterionKind.TOLERANCE, tolerance=Decimal("0.5"), unit="mmHg")
    passed_on = dates["good"] + 40 * DAY
    checks.record_check(actor=operator, plan=plan, checked_on=passed_on, measured="100.2", reference="100")
    checks.record_check(actor=operator, plan=plan, checked_on=dates["found"], measured="103", reference="100")
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert analysis.since == passed_on
    assert listed(analysis) == ["R-between", "R-on-found"]  # R-between is on the check's day: inclusive


@pytest.mark.django_db
def test_an_earlier_failed_calibration_is_not_a_good_date(make_equipment, operator, dates, today):
    equipment = make_equipment("EQ-1", calibrated_on=dates["good"])
    use(equipment, dates["good"] + DAY, operator, "R-1")
    calibration.record_calibration(actor=operator, equipment=equipment, provider="P", certificate_no="F-1",
                                   calibrated_on=dates["good"] + 2 * DAY, result=CalibrationResult.FAIL)
    analysis = impact.open_analysis(actor=operator, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                                    detail="复核", found_on=today)
    assert analysis.since == dates["good"]
    assert listed(analysis) == ["R-1"]


@pytest.mark.django_db
def test_suspect_results_today_list_everything_since_the_last_good_date(uses, dates, operator, today):
    """R-EQP-4: stopped for suspect results: the window ends today."""
    equipment, _ = uses
    status.change_status(actor=operator, equipment=equipment, status=EquipmentStatus.OUT_OF_SERVICE,
                         reason=StopReason.SUSPECT, note="复测偏差大")
    analysis = ImpactAnalysis.objects.get(equipment=equipment)
    assert (analysis.trigger, analysis.found_on) == (ImpactTrigger.SUSPECT, today)
    assert listed(analysis) == EXPECTED + ["R-after"]


@pytest.mark.django_db
def test_never_calibrated_equipment_lists_every_use_up_to_the_day(make_equipment, operator, dates):
    equipment = make_equipment("EQ-9", months_ago=None)
    use(equipment, dates["found"] - 300 * DAY, operator, "R-old")
    use(equipment, dates["found"] + DAY, operator, "R-later")
    analysis = impact.open_analysis(actor=operator, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                                    detail="x", found_on=dates["found"])
    assert analysis.since is None
    assert listed(analysis) == ["R-old"]


@pytest.mark.django_db
def test_the_quality_and_technical_leads_are_notified(uses, dates, operator, lead, qualitylead, technician):
    """The nonconformity goes to the quality lead (and the technical lead decides)."""
    equipment, _ = uses
    analysis = impact.open_analysis(actor=operator, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                                    detail="复测偏差大", found_on=dates["found"])
    url = reverse("equipment:impact_detail", args=[analysis.pk])
    notes = Notification.objects.filter(url=url)
    assert {n.recipient for n in notes} == {lead, qualitylead}
    note = notes.get(recipient=qualitylead)
    assert "EQ-1" in note.subject and note.body == analysis.nonconformity
    assert "复测偏差大" in analysis.nonconformity and dates["good"].isoformat() in analysis.nonconformity
    assert not Notification.objects.filter(recipient__in=[operator, technician]).exists()
    assert audit.events_for(equipment).filter(action="equipment.impact_opened").exists()


@pytest.fixture
def analysis(uses, dates, operator):
    equipment, _ = uses
    return impact.open_analysis(actor=operator, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                                detail="复测偏差大", found_on=dates["found"])


@pytest.mark.django_db
@pytest.mark.parametrize("decision", [ImpactDecision.RETEST, ImpactDecision.NOTIFY, ImpactDecision.RECALL])
def test_a_decision_other_than_no_effect_needs_a_note(decision, analysis, lead):
    item = analysis.items.first()
    with pytest.raises(ValidationError) as refused:
        impact.decide_item(actor=lead, item=item, decision=decision, note=" ")
    assert "note" in refused.value.message_dict
    item.refresh_from_db()
    assert item.decision == ImpactDecision.PENDING
    impact.decide_item(actor=lead, item=item, decision=decision, note="通知客户并重新检定")
    item.refresh_from_db()
    assert (item.decision, item.decided_by, item.note) == (decision, lead, "通知客户并重新检定")


@pytest.mark.django_db
def test_no_effect_needs_no_note_and_is_audited(analysis, lead):
    item = analysis.items.first()
    impact.decide_item(actor=lead, item=item, decision=ImpactDecision.NO_EFFECT)
    item.refresh_from_db()
    assert item.decision == ImpactDecision.NO_EFFECT
    event = audit.events_for(analysis.equipment).filter(action="equipment.impact_decided").get()
    assert event.actor == lead
    assert event.changes == {item.use.record_label: [ImpactDecision.PENDING, ImpactDecision.NO_EFFECT]}


@pytest.mark.django_db
@pytest.mark.parametrize("decision", [ImpactDecision.PENDING, "shrug"])
def test_an_unknown_or_pending_decision_is_refused(decision, analysis, lead):
    with pytest.raises(ValidationError):
        impact.decide_item(actor=lead, item=analysis.items.first(), decision=decision, note="x")


@pytest.mark.django_db
def test_only_the_technical_lead_decides_and_concludes(analysis, operator, qualitylead):
    item = analysis.items.first()
    for user in (operator, qualitylead):
        with pytest.raises(PermissionDenied):
            impact.decide_item(actor=user, item=item, decision=ImpactDecision.NO_EFFECT)
        with pytest.raises(PermissionDenied):
            impact.conclude(actor=user, analysis=analysis, conclusion="无影响")
    item.refresh_from_db()
    assert item.decision == ImpactDecision.PENDING


@pytest.mark.django_db
def test_conclude_is_refused_while_an_item_is_pending(analysis, lead):
    items = list(analysis.items.all())
    assert len(items) == 3
    for item in items[:-1]:
        impact.decide_item(actor=lead, item=item, decision=ImpactDecision.NO_EFFECT)
    with pytest.raises(ValidationError):
        impact.conclude(actor=lead, analysis=analysis, conclusion="无影响")
    analysis.refresh_from_db()
    assert analysis.status == ImpactStatus.OPEN
    impact.decide_item(actor=lead, item=items[-1], decision=ImpactDecision.RETEST, note="重新检定 R-on-found")
    with pytest.raises(ValidationError):
        impact.conclude(actor=lead, analysis=analysis, conclusion="  ")
    impact.conclude(actor=lead, analysis=analysis, conclusion="一份记录重新检定，其余无影响")
    analysis.refresh_from_db()
    assert (analysis.status, analysis.decided_by) == (ImpactStatus.DECIDED, lead)
    # Closed: no more decisions, no second conclusion.
    with pytest.raises(ValidationError):
        impact.decide_item(actor=lead, item=items[0], decision=ImpactDecision.RECALL, note="改主意")
    with pytest.raises(ValidationError):
        impact.conclude(actor=lead, analysis=analysis, conclusion="again")


@pytest.mark.django_db
def test_an_analysis_without_affected_records_can_be_concluded_at_once(make_equipment, operator, lead, today):
    equipment = make_equipment("EQ-5")
    analysis = impact.open_analysis(actor=operator, equipment=equipment, trigger=ImpactTrigger.SUSPECT,
                                    detail="x", found_on=today)
    assert not analysis.items.exists()
    impact.conclude(actor=lead, analysis=analysis, conclusion="期间未使用")
