"""Method editions and record templates (R-TST-3): only the current edition is used, a
new edition supersedes the old one, template versions in use never change."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from certificates.models import Method, MethodStatus, RecordTemplate, TemplateStatus
from certificates.services import methods as services
from labqms.models import AuditEvent
from tests.certificates.conftest import BP_DATA

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _edition(lead, categories, edition, code="JJG 692", kind="verification", category="bp"):
    return services.save_method(
        actor=lead, categories=[categories[category]] if category else [],
        data={"code": code, "edition": edition, "title": "无创自动测量血压计", "kind": kind, "effective_on": dt.date(2025, 1, 1)},
    )


def _points(*nominals, kind="absolute", tolerance="3"):
    return [
        {"label": "", "nominal": D(n), "tolerance_kind": kind, "tolerance": D(tolerance), "default_uncertainty": None}
        for n in nominals
    ]


# --- editions --------------------------------------------------------------------------


def test_r_tst_3_new_method_awaits_approval(method_lead, categories):
    new = _edition(method_lead, categories, "2025", code="  JJG   692 ")
    assert new.status == MethodStatus.DRAFT
    assert new.code == "JJG 692"  # spaces normalised so editions of one code match
    assert not new.is_usable
    assert list(new.categories.all()) == [categories["bp"]]
    assert AuditEvent.objects.filter(action="method.created", target_id=str(new.pk)).exists()


def test_r_tst_3_approving_a_new_edition_supersedes_the_current_one(method, method_lead, categories):
    """R-TST-3: approving JJG 692-2025 makes JJG 692-2010 superseded, pointing at 2025."""
    assert method.status == MethodStatus.CURRENT
    new = _edition(method_lead, categories, "2025")
    services.approve_method(actor=method_lead, method=new)
    method.refresh_from_db()
    new.refresh_from_db()
    assert new.status == MethodStatus.CURRENT
    assert new.approved_by == method_lead and new.approved_at is not None
    assert method.status == MethodStatus.SUPERSEDED
    assert method.superseded_by == new
    assert method.status_changed_on == timezone.localdate()
    assert list(services.current_methods(categories["bp"], "verification")) == [new]
    event = AuditEvent.objects.get(action="method.superseded", target_id=str(method.pk))
    assert event.changes["superseded_by"] == [None, "JJG 692-2025"]


def test_r_tst_3_an_older_edition_cannot_replace_a_newer_current_one(method, method_lead, categories):
    older = _edition(method_lead, categories, "2005")
    with pytest.raises(ValidationError, match="JJG 692-2010 is newer than JJG 692-2005"):
        services.approve_method(actor=method_lead, method=older)
    older.refresh_from_db()
    method.refresh_from_db()
    assert older.status == MethodStatus.DRAFT
    assert method.status == MethodStatus.CURRENT and method.superseded_by is None


def test_r_tst_3_approved_edition_cannot_be_edited(method, method_lead, categories):
    data = {"code": "JJG 692", "edition": "2010", "title": "改过的标题", "kind": "verification", "effective_on": dt.date(2011, 7, 1)}
    with pytest.raises(ValidationError, match="register a new edition"):
        services.save_method(actor=method_lead, method=method, data=data, categories=[categories["bp"]])
    method.refresh_from_db()
    assert method.title == "无创自动测量血压计"


def test_draft_edition_can_be_edited_and_the_change_is_audited(method_lead, categories):
    draft = _edition(method_lead, categories, "2025")
    data = {"code": "JJG 692", "edition": "2025", "title": "新标题", "kind": "verification", "effective_on": dt.date(2025, 1, 1)}
    services.save_method(actor=method_lead, method=draft, data=data, categories=[categories["bp"], categories["ct"]])
    draft.refresh_from_db()
    assert draft.title == "新标题"
    assert set(draft.categories.values_list("code", flat=True)) == {"BP", "CT"}
    event = AuditEvent.objects.get(action="method.updated", target_id=str(draft.pk))
    assert event.changes["title"] == ["无创自动测量血压计", "新标题"]
    assert event.changes["categories"] == [["BP"], ["BP", "CT"]]


def test_the_same_edition_is_registered_once(method, method_lead, categories):
    with pytest.raises(ValidationError) as exc:
        _edition(method_lead, categories, "2010")
    assert "edition" in exc.value.message_dict
    assert Method.objects.filter(code="JJG 692").count() == 1


def test_approval_needs_the_applicable_categories(method_lead, categories):
    bare = _edition(method_lead, categories, "2025", category=None)
    with pytest.raises(ValidationError, match="instrument categories"):
        services.approve_method(actor=method_lead, method=bare)
    bare.refresh_from_db()
    assert bare.status == MethodStatus.DRAFT


def test_only_a_draft_edition_is_approved(method, method_lead):
    with pytest.raises(ValidationError, match="awaiting approval"):
        services.approve_method(actor=method_lead, method=method)


def test_r_tst_3_withdrawal_needs_a_reason(method, method_lead):
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as exc:
            services.withdraw_method(actor=method_lead, method=method, reason=reason)
        assert "reason" in exc.value.message_dict
    method.refresh_from_db()
    assert method.status == MethodStatus.CURRENT
    services.withdraw_method(actor=method_lead, method=method, reason="  国家局公告废止  ")
    method.refresh_from_db()
    assert method.status == MethodStatus.WITHDRAWN
    assert method.withdrawal_reason == "国家局公告废止"
    assert not method.is_usable
    assert AuditEvent.objects.get(action="method.withdrawn", target_id=str(method.pk)).reason == "国家局公告废止"
    with pytest.raises(ValidationError, match="already"):
        services.withdraw_method(actor=method_lead, method=method, reason="again")


def test_superseded_edition_cannot_be_withdrawn(method, method_lead, categories):
    services.approve_method(actor=method_lead, method=_edition(method_lead, categories, "2025"))
    with pytest.raises(ValidationError, match="already"):
        services.withdraw_method(actor=method_lead, method=method, reason="x")


def test_r_tst_3_current_methods_lists_only_current_editions_of_the_kind_and_category(method, cal_method, method_lead, categories):
    draft = _edition(method_lead, categories, "2025")
    other = services.approve_method(actor=method_lead, method=_edition(method_lead, categories, "2019", code="JJG 1163", category="ct"))
    assert list(services.current_methods(categories["bp"], "verification")) == [method]
    assert list(services.current_methods(categories["bp"], "calibration")) == []
    assert list(services.current_methods(categories["pump"], "calibration")) == [cal_method]
    assert list(services.current_methods(categories["ct"], "verification")) == [other]
    assert draft not in services.current_methods(categories["bp"], "verification")
    services.withdraw_method(actor=method_lead, method=method, reason="废止")
    assert list(services.current_methods(categories["bp"], "verification")) == []


# --- templates --------------------------------------------------------------------------


def test_r_tst_3_template_is_created_as_draft_version_1_with_points(method, method_lead):
    template = services.save_template(actor=method_lead, method=method, data=dict(BP_DATA), points=_points(50, 100))
    assert template.version == 1 and template.status == TemplateStatus.DRAFT and template.is_editable
    assert [(p.position, p.nominal, p.tolerance) for p in template.points.all()] == [(1, D(50), D(3)), (2, D(100), D(3))]
    assert method.active_template() is None  # a draft is not used


def test_r_tst_3_new_version_copies_points_and_approval_retires_the_previous(template, method, method_lead):
    assert template.status == TemplateStatus.ACTIVE
    draft = services.new_version(actor=method_lead, template=template)
    assert draft.version == 2 and draft.status == TemplateStatus.DRAFT
    copied = [(p.position, p.nominal, p.tolerance_kind, p.tolerance, p.default_uncertainty) for p in draft.points.all()]
    original = [(p.position, p.nominal, p.tolerance_kind, p.tolerance, p.default_uncertainty) for p in template.points.all()]
    assert copied == original and len(copied) == 3
    assert draft.inspection_items == template.inspection_items and draft.resolution == template.resolution
    assert method.active_template() == template  # the old version stays in use until approval

    services.save_template(actor=method_lead, method=method, template=draft, data={**BP_DATA, "repeats": 5}, points=_points(100, 200))
    services.approve_template(actor=method_lead, template=draft)
    template.refresh_from_db()
    draft.refresh_from_db()
    assert template.status == TemplateStatus.RETIRED
    assert draft.status == TemplateStatus.ACTIVE and draft.approved_by == method_lead
    assert method.active_template() == draft
    assert draft.repeats == 5 and [p.nominal for p in draft.points.all()] == [D(100), D(200)]
    # the retired version's points are untouched
    assert [p.nominal for p in template.points.all()] == [D(100), D(150), D(200)]
    event = AuditEvent.objects.get(action="template.approved", target_id=str(draft.pk))
    assert event.changes["replaces"] == [None, ["v1"]]


def test_r_tst_3_active_template_is_not_editable(template, method, method_lead):
    with pytest.raises(ValidationError, match="start a new version"):
        services.save_template(actor=method_lead, method=method, template=template, data={**BP_DATA, "repeats": 5}, points=_points(100))
    template.refresh_from_db()
    assert template.repeats == 3 and template.points.count() == 3


def test_retired_template_is_not_approved_again(template, method_lead):
    draft = services.new_version(actor=method_lead, template=template)
    services.approve_template(actor=method_lead, template=draft)
    with pytest.raises(ValidationError, match="Only a draft"):
        services.approve_template(actor=method_lead, template=template)


def test_r_tst_3_template_of_a_superseded_method_is_not_approved(template, method, method_lead, categories):
    draft = services.new_version(actor=method_lead, template=template)
    services.approve_method(actor=method_lead, method=_edition(method_lead, categories, "2025"))
    with pytest.raises(ValidationError, match="no longer current"):
        services.approve_template(actor=method_lead, template=draft)
    draft.refresh_from_db()
    assert draft.status == TemplateStatus.DRAFT


def test_template_needs_points(method, method_lead):
    with pytest.raises(ValidationError) as exc:
        services.save_template(actor=method_lead, method=method, data=dict(BP_DATA), points=[])
    assert "points" in exc.value.message_dict
    assert not RecordTemplate.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"range_low": D("300"), "range_high": D("0")}, "range_high"),
        ({"temperature_min": D("25"), "temperature_max": D("15")}, "temperature_max"),
        ({"humidity_min": D("90"), "humidity_max": D("85")}, "humidity_max"),
        ({"resolution": D("0")}, "resolution"),
        ({"other_conditions": [{"name": "", "unit": "V", "min": "198", "max": "242"}]}, "other_conditions"),
    ],
)
def test_template_limits_are_validated(method, method_lead, changes, field):
    with pytest.raises(ValidationError) as exc:
        services.save_template(actor=method_lead, method=method, data={**BP_DATA, **changes}, points=_points(100))
    assert field in exc.value.message_dict
    assert not RecordTemplate.objects.exists()


def test_tolerance_in_percent_of_range_needs_the_range(method, method_lead):
    with pytest.raises(ValidationError) as exc:
        services.save_template(actor=method_lead, method=method, data={**BP_DATA, "range_high": None}, points=_points(100, kind="range", tolerance="1"))
    assert "range_high" in exc.value.message_dict
    # with the range it is accepted
    template = services.save_template(actor=method_lead, method=method, data=dict(BP_DATA), points=_points(100, kind="range", tolerance="1"))
    assert template.points.get().tolerance_kind == "range"


@pytest.mark.parametrize(
    ("point", "message"),
    [
        ({"nominal": None, "tolerance": D("3")}, "no nominal value"),
        ({"nominal": D("100"), "tolerance": D("-1")}, "cannot be negative"),
    ],
)
def test_points_are_validated(method, method_lead, point, message):
    row = {"label": "", "tolerance_kind": "absolute", "default_uncertainty": None, **point}
    with pytest.raises(ValidationError) as exc:
        services.save_template(actor=method_lead, method=method, data=dict(BP_DATA), points=[row])
    assert message in exc.value.message_dict["points"][0]


def test_inspection_items_are_trimmed_and_blanks_dropped(method, method_lead):
    template = services.save_template(
        actor=method_lead, method=method, data={**BP_DATA, "inspection_items": [" 外观 ", "", "  ", "气密性"]}, points=_points(100)
    )
    assert template.inspection_items == ["外观", "气密性"]


# --- permissions ------------------------------------------------------------------------


def test_r_tst_3_a_technician_does_not_manage_methods(performer, method, template, method_lead, categories):
    """Only the technical lead registers and approves editions and templates."""
    data = {"code": "JJG 692", "edition": "2025", "title": "x", "kind": "verification", "effective_on": dt.date(2025, 1, 1)}
    draft = _edition(method_lead, categories, "2025")
    draft_template = services.new_version(actor=method_lead, template=template)
    attempts = [
        lambda: services.save_method(actor=performer, data=data, categories=[categories["bp"]]),
        lambda: services.approve_method(actor=performer, method=draft),
        lambda: services.withdraw_method(actor=performer, method=method, reason="x"),
        lambda: services.save_template(actor=performer, method=method, data=dict(BP_DATA), points=_points(100)),
        lambda: services.approve_template(actor=performer, template=draft_template),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    draft.refresh_from_db()
    draft_template.refresh_from_db()
    method.refresh_from_db()
    assert draft.status == MethodStatus.DRAFT
    assert draft_template.status == TemplateStatus.DRAFT
    assert method.status == MethodStatus.CURRENT


def test_only_one_draft_version_at_a_time(template, method_lead):
    """Two drafts of the same method would race to replace the version in use."""
    services.new_version(actor=method_lead, template=template)
    with pytest.raises(ValidationError, match="still a draft"):
        services.new_version(actor=method_lead, template=template)
    assert RecordTemplate.objects.filter(method=template.method, status=TemplateStatus.DRAFT).count() == 1
