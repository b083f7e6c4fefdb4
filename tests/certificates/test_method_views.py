"""Method editions and record templates in the browser (R-TST-3): the list of every
edition, registering and approving a new edition (the older one becomes superseded),
template versions with measurement points entered as rows, and who may do what."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.models import Method, MethodStatus, RecordTemplate, TemplateStatus
from certificates.services import methods as method_services
from certificates.views.methods import tolerance_text
from tests.certificates.conftest import BP_DATA

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client, method_lead, settings):
    """The technical lead, English UI (messages are asserted in English)."""
    client.force_login(method_lead)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def tech_client(client, performer, settings):
    client.force_login(performer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _make_method(lead, categories, code, edition="2020", kind="verification", approve=True, category="bp", title=None):
    method = method_services.save_method(
        actor=lead, categories=[categories[category]],
        data={"code": code, "edition": edition, "title": title or f"标题 {code}", "kind": kind, "effective_on": "2021-01-01"},
    )
    return method_services.approve_method(actor=lead, method=method) if approve else method


def _codes(response) -> list[str]:
    return [m.full_code for m in response.context["page"]]


# --- the method list ---------------------------------------------------------------------


def test_method_list_searches_and_filters_every_edition_R_TST_3(lead_client, method_lead, categories, method):
    _make_method(method_lead, categories, "JJF 1259", "2018", kind="calibration", category="pump")
    draft = _make_method(method_lead, categories, "JJG 692", "2025", approve=False)
    url = reverse("certificates:method_list")

    response = lead_client.get(url)
    assert response.status_code == 200
    assert _codes(response) == ["JJF 1259-2018", "JJG 692-2025", "JJG 692-2010"]  # every edition
    assert 'data-testid="method-create"' in response.content.decode()

    assert _codes(lead_client.get(url, {"q": "692"})) == ["JJG 692-2025", "JJG 692-2010"]
    assert _codes(lead_client.get(url, {"q": "jjg 692-2010"})) == ["JJG 692-2010"]
    assert _codes(lead_client.get(url, {"q": "血压"})) == ["JJG 692-2010"]  # by title
    assert _codes(lead_client.get(url, {"kind": "calibration"})) == ["JJF 1259-2018"]
    assert _codes(lead_client.get(url, {"status": MethodStatus.DRAFT})) == [draft.full_code]
    assert _codes(lead_client.get(url, {"category": categories["pump"].pk})) == ["JJF 1259-2018"]
    assert _codes(lead_client.get(url, {"sort": "-created_at"}))[0] == "JJG 692-2025"
    # a malformed filter falls back to "no filter" instead of failing
    assert lead_client.get(url, {"category": "nope", "sort": "bogus"}).status_code == 200


def test_method_list_paginates_by_25_with_a_constant_number_of_queries(lead_client, method_lead, categories):
    for n in range(3):
        _make_method(method_lead, categories, f"JJG {100 + n}")
    url = reverse("certificates:method_list")
    with CaptureQueriesContext(connection) as few:
        lead_client.get(url)
    for n in range(3, 30):
        _make_method(method_lead, categories, f"JJG {100 + n}", approve=n % 2 == 0)
    with CaptureQueriesContext(connection) as many:
        response = lead_client.get(url)
    assert len(many) == len(few)
    assert response.context["page"].paginator.count == 30
    assert len(response.context["page"]) == 25
    page2 = lead_client.get(url, {"page": 2, "q": "JJG"})
    assert len(page2.context["page"]) == 5
    assert "q=JJG" in page2.context["querystring"]


# --- editions: register, approve, supersede (R-TST-3) -------------------------------------


def test_new_edition_approved_makes_the_older_one_superseded_R_TST_3(lead_client, method, categories):
    response = lead_client.get(reverse("certificates:method_create"), {"from": method.pk})
    assert response.context["form"].initial["code"] == "JJG 692"  # starts from the old edition

    response = lead_client.post(
        reverse("certificates:method_create"),
        {"code": "JJG 692", "edition": "2025", "title": "无创自动测量血压计", "kind": "verification",
         "effective_on": "2026-01-01", "categories": [categories["bp"].pk], "notes": ""},
    )
    new = Method.objects.get(code="JJG 692", edition="2025")
    assert response.status_code == 302 and response.url == reverse("certificates:method_detail", args=[new.pk])
    assert new.status == MethodStatus.DRAFT

    response = lead_client.post(reverse("certificates:method_approve", args=[new.pk]))
    assert response.status_code == 302
    assert any("JJG 692-2025 is now the current edition" in m and "JJG 692-2010" in m for m in _messages(response))
    method.refresh_from_db()
    new.refresh_from_db()
    assert new.status == MethodStatus.CURRENT and new.approved_by is not None
    assert method.status == MethodStatus.SUPERSEDED and method.superseded_by == new

    page = lead_client.get(reverse("certificates:method_list")).content.decode()
    assert 'data-code="JJG 692-2010" data-status="superseded"' in page
    assert "superseded by JJG 692-2025" in page

    detail = lead_client.get(reverse("certificates:method_detail", args=[method.pk]))
    content = detail.content.decode()
    assert 'data-testid="method-superseded-note"' in content
    assert [e.full_code for e in detail.context["editions"]] == ["JJG 692-2025", "JJG 692-2010"]
    assert 'data-testid="method-approve"' not in content  # nothing to approve any more
    events = [e.action for e in detail.context["events"]]
    assert "method.superseded" in events


def test_registering_an_existing_edition_shows_the_error_and_keeps_the_input(lead_client, method, categories):
    response = lead_client.post(
        reverse("certificates:method_create"),
        {"code": "JJG 692", "edition": "2010", "title": "重复录入的标题", "kind": "verification",
         "effective_on": "2011-07-01", "categories": [categories["bp"].pk]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    content = response.content.decode()
    assert "重复录入的标题" in content
    assert Method.objects.filter(code="JJG 692").count() == 1


def test_approving_without_categories_is_refused_with_the_reason(lead_client, method_lead, categories):
    draft = method_services.save_method(
        actor=method_lead, categories=[],
        data={"code": "JJG 999", "edition": "2024", "title": "T", "kind": "verification", "effective_on": "2024-07-01"},
    )
    response = lead_client.post(reverse("certificates:method_approve", args=[draft.pk]))
    assert any("instrument categories" in m for m in _messages(response))
    draft.refresh_from_db()
    assert draft.status == MethodStatus.DRAFT


def test_a_draft_edition_can_be_edited(lead_client, method_lead, categories):
    draft = _make_method(method_lead, categories, "JJG 270", "2024", approve=False)
    url = reverse("certificates:method_edit", args=[draft.pk])
    assert lead_client.get(url).status_code == 200
    response = lead_client.post(
        url, {"code": "JJG 270", "edition": "2024", "title": "血压计和血压表", "kind": "verification",
              "effective_on": "2025-07-01", "categories": [categories["bp"].pk, categories["pump"].pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "血压计和血压表"
    assert set(draft.categories.values_list("code", flat=True)) == {"BP", "PUMP"}
    event = lead_client.get(reverse("certificates:method_detail", args=[draft.pk])).context["events"][0]
    assert event.action == "method.updated"
    assert event.changes["effective_on"] == ["2021-01-01", "2025-07-01"]
    assert event.changes["categories"] == [["BP"], ["BP", "PUMP"]]


def test_editing_an_approved_edition_is_refused_with_a_message_R_TST_3(lead_client, method):
    url = reverse("certificates:method_edit", args=[method.pk])
    response = lead_client.get(url)
    assert response.status_code == 302
    assert any("An approved edition does not change" in m for m in _messages(response))
    response = lead_client.post(
        url, {"code": "JJG 692", "edition": "2010", "title": "改过的", "kind": "verification", "effective_on": "2011-07-01"}
    )
    assert response.status_code == 302
    method.refresh_from_db()
    assert method.title == "无创自动测量血压计"
    detail = lead_client.get(reverse("certificates:method_detail", args=[method.pk])).content.decode()
    assert 'data-testid="method-edit"' not in detail


def test_withdrawing_needs_a_reason_and_is_shown(lead_client, method):
    url = reverse("certificates:method_withdraw", args=[method.pk])
    response = lead_client.post(url, {"reason": "  "})
    assert response.status_code == 200
    assert response.context["withdraw_form"].errors["reason"] == ["Say why the method is withdrawn."]
    method.refresh_from_db()
    assert method.status == MethodStatus.CURRENT

    response = lead_client.post(url, {"reason": "国家已废止"})
    assert response.status_code == 302
    method.refresh_from_db()
    assert method.status == MethodStatus.WITHDRAWN
    detail = lead_client.get(reverse("certificates:method_detail", args=[method.pk])).content.decode()
    assert "国家已废止" in detail and 'data-testid="method-withdrawn-note"' in detail
    assert 'data-testid="method-withdraw-form"' not in detail


def test_method_page_shows_templates_approvals_and_audit_trail(lead_client, method, template):
    response = lead_client.get(reverse("certificates:method_detail", args=[method.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert reverse("certificates:template_detail", args=[template.pk]) in content
    assert 'data-testid="template-row" data-version="1"' in content
    assert "mlead_t" in content or "技术负责人" in content  # approved by
    assert 'data-testid="template-create"' in content
    assert {e.action for e in response.context["events"]} >= {"method.created", "method.approved"}
    assert 'data-testid="audit-row"' in content


# --- record templates ---------------------------------------------------------------------

POINTS = "points"
CONDITIONS = "conditions"


def _template_post(points, conditions=(), **fields):
    data = {
        "name": "血压计检定记录", "quantity": "静态压力示值", "unit": "mmHg", "repeats": "3", "resolution": "1",
        "range_low": "0", "range_high": "300", "temperature_min": "15", "temperature_max": "25",
        "humidity_min": "", "humidity_max": "85", "default_coverage_factor": "", "notes": "",
        "inspection_items": "外观\n\n气密性\n",
    }
    data.update(fields)
    for prefix, rows in ((POINTS, points), (CONDITIONS, conditions)):
        data.update({f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
        for index, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{index}-{key}"] = value
    return data


def _point(nominal, tolerance="3", kind="absolute", label="", u=""):
    return {"label": label, "nominal": nominal, "tolerance_kind": kind, "tolerance": tolerance, "default_uncertainty": u}


BLANK_POINT = _point("", tolerance="")  # an untouched extra row (the kind stays pre-selected)


def test_template_create_page_works_without_javascript(lead_client, method):
    response = lead_client.get(reverse("certificates:template_create", args=[method.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["points"].total_form_count() == 3  # empty rows to type into
    assert content.count('data-testid="point-row"') == 4  # + the row template for the script
    assert "certificates/template_form.js" in content
    assert "<script>" not in content and "onclick" not in content  # CSP


def test_template_create_with_points_from_the_formset(lead_client, method):
    response = lead_client.post(
        reverse("certificates:template_create", args=[method.pk]),
        _template_post(
            [_point("100"), BLANK_POINT, _point("150.0"), _point("200", "5", "reading", label="高点", u="0.8")],
            [{"name": "电源电压", "unit": "V", "min": "198", "max": "242"}, {"name": "", "unit": "", "min": "", "max": ""}],
        ),
    )
    template = RecordTemplate.objects.get(method=method)
    assert response.status_code == 302
    assert response.url == reverse("certificates:template_detail", args=[template.pk])
    assert template.status == TemplateStatus.DRAFT and template.version == 1
    assert template.inspection_items == ["外观", "气密性"]
    assert template.other_conditions == [{"name": "电源电压", "unit": "V", "min": "198", "max": "242"}]
    points = list(template.points.order_by("position"))
    assert [(p.position, p.nominal, p.tolerance_kind, p.tolerance) for p in points] == [
        (1, D("100"), "absolute", D("3")), (2, D("150"), "absolute", D("3")), (3, D("200"), "reading", D("5")),
    ]
    assert points[2].label == "高点" and points[2].default_uncertainty == D("0.8")

    detail = lead_client.get(response.url).content.decode()
    assert "±3 mmHg" in detail and "±5 % of reading" in detail
    assert 'data-testid="template-approve"' in detail and 'data-testid="template-edit"' in detail
    assert "电源电压" in detail


def test_a_bad_row_shows_its_errors_and_keeps_every_value_typed(lead_client, method):
    response = lead_client.post(
        reverse("certificates:template_create", args=[method.pk]),
        _template_post(
            [_point("100"), _point("", tolerance="4.5", label="无标称"), _point("200", tolerance="-1")],
            [{"name": "电源电压", "unit": "V", "min": "242", "max": "198"}],
            name="输入保留测试",
        ),
    )
    assert response.status_code == 200
    assert not RecordTemplate.objects.filter(method=method).exists()
    points, conditions = response.context["points"], response.context["conditions"]
    assert points.forms[1].errors["nominal"] == ["Enter the nominal value of this point."]
    assert "tolerance" in points.forms[2].errors
    assert conditions.forms[0].errors["max"] == ["The upper limit is below the lower limit."]
    content = response.content.decode()
    for typed in ('value="输入保留测试"', 'value="无标称"', 'value="4.5"', 'value="-1"', 'value="242"', 'value="198"'):
        assert typed in content
    assert content.count("is-invalid") >= 3
    assert any("Nothing was saved" in m for m in _messages(response))


def test_limits_the_service_refuses_show_on_their_field_with_the_input_kept(lead_client, method):
    response = lead_client.post(
        reverse("certificates:template_create", args=[method.pk]),
        _template_post([_point("100", "1", "range")], range_low="50", range_high="10", temperature_min="30"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["range_high"] == ["The upper limit is below the lower limit."]
    assert form.errors["temperature_max"] == ["The upper limit is below the lower limit."]
    content = response.content.decode()
    assert 'value="50"' in content and 'value="10"' in content and 'value="100"' in content
    assert not RecordTemplate.objects.filter(method=method).exists()


def test_a_template_without_points_is_refused_above_the_rows(lead_client, method):
    response = lead_client.post(
        reverse("certificates:template_create", args=[method.pk]), _template_post([BLANK_POINT, BLANK_POINT])
    )
    assert response.status_code == 200
    assert response.context["row_errors"]["points"] == ["A template needs at least one measurement point."]
    assert 'data-testid="rows-error"' in response.content.decode()


def test_approving_a_template_retires_the_previous_version(lead_client, method, template, method_lead):
    draft = method_services.new_version(actor=method_lead, template=template)
    response = lead_client.post(reverse("certificates:template_approve", args=[draft.pk]))
    assert response.status_code == 302
    assert any("Version 2 is now in use" in m for m in _messages(response))
    template.refresh_from_db()
    draft.refresh_from_db()
    assert draft.status == TemplateStatus.ACTIVE
    assert template.status == TemplateStatus.RETIRED
    old = lead_client.get(reverse("certificates:template_detail", args=[template.pk])).content.decode()
    assert 'data-testid="template-status" data-status="retired"' in old
    assert reverse("certificates:template_detail", args=[draft.pk]) in old  # link to the other version


def test_new_version_copies_the_points_and_opens_its_edit_page(lead_client, method, template):
    response = lead_client.post(reverse("certificates:template_new_version", args=[template.pk]))
    new = RecordTemplate.objects.get(method=method, version=2)
    assert response.status_code == 302
    assert response.url == reverse("certificates:template_edit", args=[new.pk])
    assert new.status == TemplateStatus.DRAFT
    assert [(p.nominal, p.tolerance) for p in new.points.order_by("position")] == [
        (D("100"), D("3")), (D("150"), D("3")), (D("200"), D("3"))
    ]
    edit = lead_client.get(response.url)
    assert edit.status_code == 200
    assert [f.initial["nominal"] for f in edit.context["points"].initial_forms] == ["100", "150", "200"]
    assert edit.context["form"].initial["inspection_items"] == "外观\n气密性"

    # the draft now changes; the version in use does not
    response = lead_client.post(
        reverse("certificates:template_edit", args=[new.pk]),
        _template_post([_point("100"), _point("250")], name="第二版"),
    )
    assert response.status_code == 302
    new.refresh_from_db()
    template.refresh_from_db()
    assert new.name == "第二版" and new.points.count() == 2
    assert template.name == BP_DATA["name"] and template.points.count() == 3

    # a second "new version" while a draft exists goes to that draft instead
    response = lead_client.post(reverse("certificates:template_new_version", args=[template.pk]))
    assert response.url == reverse("certificates:template_edit", args=[new.pk])
    assert RecordTemplate.objects.filter(method=method).count() == 2


def test_a_version_in_use_is_not_edited(lead_client, template):
    response = lead_client.post(
        reverse("certificates:template_edit", args=[template.pk]), _template_post([_point("1")], name="不该改")
    )
    assert response.status_code == 302
    assert any("is in use and does not change" in m for m in _messages(response))
    template.refresh_from_db()
    assert template.name == BP_DATA["name"]


def test_template_create_starts_from_the_last_version(lead_client, method, template):
    response = lead_client.get(reverse("certificates:template_create", args=[method.pk]))
    assert response.context["start"] == template
    assert response.context["form"].initial["name"] == BP_DATA["name"]
    assert response.context["form"].initial["resolution"] == "1"
    assert len(response.context["points"].initial_forms) == 3


def test_tolerance_is_shown_as_the_method_writes_it():
    assert tolerance_text("absolute", D("3.000000"), "mmHg") == "±3 mmHg"
    assert tolerance_text("reading", D("5"), "mL/h") == "±5 % of reading"
    assert tolerance_text("range", D("1.0"), "kPa") == "±1 % of range"
    assert tolerance_text("absolute", None, "mmHg") == "—"


def test_percent_of_reading_points_show_on_the_template_page(lead_client, cal_template):
    content = lead_client.get(reverse("certificates:template_detail", args=[cal_template.pk])).content.decode()
    assert "±5 % of reading" in content and "0.3" in content


# --- who may do what ---------------------------------------------------------------------


def test_technician_reads_but_cannot_change_R_TST_3(tech_client, method_lead, method, template, categories):
    draft = _make_method(method_lead, categories, "JJG 692", "2025", approve=False)
    for url in (
        reverse("certificates:method_list"),
        reverse("certificates:method_detail", args=[method.pk]),
        reverse("certificates:method_detail", args=[draft.pk]),
        reverse("certificates:template_detail", args=[template.pk]),
    ):
        response = tech_client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        for button in ("method-create", "method-approve", "method-withdraw", "template-new-version",
                       "template-create", "method-new-edition"):
            assert f'data-testid="{button}"' not in content, (url, button)

    # form pages send them back with the reason
    for url in (reverse("certificates:method_create"), reverse("certificates:template_create", args=[method.pk])):
        response = tech_client.get(url)
        assert response.status_code == 302
        assert any("Your role does not allow this" in m for m in _messages(response))

    # change POSTs are refused and change nothing
    posts = [
        (reverse("certificates:method_approve", args=[draft.pk]), {}),
        (reverse("certificates:method_withdraw", args=[method.pk]), {"reason": "试试"}),
        (reverse("certificates:method_edit", args=[draft.pk]), {"code": "X", "edition": "1", "title": "X",
                                                                 "kind": "verification", "effective_on": "2024-01-01"}),
        (reverse("certificates:method_create"), {"code": "X", "edition": "1", "title": "X",
                                                  "kind": "verification", "effective_on": "2024-01-01"}),
        (reverse("certificates:template_new_version", args=[template.pk]), {}),
        (reverse("certificates:template_create", args=[method.pk]), _template_post([_point("1")])),
    ]
    for url, data in posts:
        response = tech_client.post(url, data)
        assert response.status_code in (302, 403), url
        assert any("not allow" in m for m in _messages(response)), url
    draft.refresh_from_db()
    method.refresh_from_db()
    assert draft.status == MethodStatus.DRAFT and draft.title != "X"
    assert method.status == MethodStatus.CURRENT
    assert not Method.objects.filter(code="X").exists()
    assert RecordTemplate.objects.filter(method=method).count() == 1


def test_technician_cannot_approve_a_draft_template(tech_client, method_lead, template):
    draft = method_services.new_version(actor=method_lead, template=template)
    response = tech_client.post(reverse("certificates:template_approve", args=[draft.pk]))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == TemplateStatus.DRAFT


@pytest.mark.parametrize("who", ["clerk", "portal_user"])
def test_counter_staff_and_customers_get_404(client, request, who, method, template):
    client.force_login(request.getfixturevalue(who))
    gets = [
        reverse("certificates:method_list"),
        reverse("certificates:method_create"),
        reverse("certificates:method_detail", args=[method.pk]),
        reverse("certificates:method_edit", args=[method.pk]),
        reverse("certificates:template_create", args=[method.pk]),
        reverse("certificates:template_detail", args=[template.pk]),
        reverse("certificates:template_edit", args=[template.pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        reverse("certificates:method_approve", args=[method.pk]),
        reverse("certificates:method_withdraw", args=[method.pk]),
        reverse("certificates:template_approve", args=[template.pk]),
        reverse("certificates:template_new_version", args=[template.pk]),
    ]
    for url in posts:
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    method.refresh_from_db()
    assert method.status == MethodStatus.CURRENT


def test_anonymous_visitors_are_sent_to_sign_in(client, method):
    response = client.get(reverse("certificates:method_detail", args=[method.pk]))
    assert response.status_code == 302 and "login" in response.url


def test_actions_are_post_only(lead_client, method, template):
    assert lead_client.get(reverse("certificates:method_approve", args=[method.pk])).status_code == 405
    assert lead_client.get(reverse("certificates:template_new_version", args=[template.pk])).status_code == 405


def test_every_page_renders_in_the_default_chinese_ui(client, method_lead, method, template, cal_template):
    client.force_login(method_lead)
    draft = method_services.new_version(actor=method_lead, template=template)
    for url in (
        reverse("certificates:method_list"),
        reverse("certificates:method_create"),
        reverse("certificates:method_detail", args=[method.pk]),
        reverse("certificates:template_create", args=[method.pk]),
        reverse("certificates:template_detail", args=[template.pk]),
        reverse("certificates:template_detail", args=[cal_template.pk]),
        reverse("certificates:template_edit", args=[draft.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-hans"' in response.content.decode(), url
