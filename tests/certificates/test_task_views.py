"""Task pages: samples waiting for a task, assignment, my tasks, the task list, start,
reassign and cancel (R-TST-1, R-TST-4, R-ONS-3).

Standing users: ``method_lead`` (technical lead: assigns), ``performer`` and ``checker``
(technicians authorised for the bp category), counter staff and a customer (outsiders:
404 everywhere)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates.models import RecordCheck, Task, TaskStatus
from certificates.services import methods as method_services
from certificates.services import records as record_services
from certificates.services import tasks as task_services
from intake.models import SampleStatus
from intake.services import samples as sample_services
from intake.services import visits as visit_services
from labqms.models import Activity
from tests.intake.conftest import line

ASSIGN = reverse("certificates:task_assign")
UNASSIGNED = reverse("certificates:unassigned")
MY_TASKS = reverse("certificates:my_tasks")
TASK_LIST = reverse("certificates:task_list")


def english(client, settings, user):
    """Signed in with the English UI, so message texts can be asserted."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def lead_client(client, settings, method_lead):
    return english(client, settings, method_lead)


@pytest.fixture
def stored_sample(make_order, categories, clerk, location):
    """``stored_sample(serial)``: a received (stored) bp sample of its own accepted order."""

    def make(serial="BP-100", category="bp"):
        order = make_order([line(categories[category], serial)])
        return sample_services.receive_sample(actor=clerk, sample=order.samples.get(), location=location)

    return make


@pytest.fixture
def on_site_order(make_order, categories, clerk):
    """``on_site_order(quantity)``: an accepted on-site order for bp with two planned visits."""

    def make(quantity=1, serial_prefix="OS"):
        serials = ",".join(f"{serial_prefix}-{n}" for n in range(1, quantity + 1))
        order = make_order([line(categories["bp"], serials, quantity=quantity)], work_location="on_site")
        today = dt.date.today()
        for days, address in ((3, "市一院门诊楼 3 楼"), (10, "市一院住院部 B 区")):
            visit_services.plan_visit(
                actor=clerk, order=order, planned_date=today + dt.timedelta(days=days),
                site_address=address, site_contact="刘洋", site_phone="13800000001",
            )
        return order

    return make


def assign_data(samples, method, performer, checker, **extra):
    return {"sample": [s.pk for s in samples], "method": method.pk, "performer": performer.pk, "checker": checker.pk, **extra}


# --- samples waiting for a task --------------------------------------------------------


@pytest.mark.django_db
def test_unassigned_lists_a_received_sample_without_task_and_hides_one_with_a_task(
    lead_client, task, stored_sample, make_order, categories
):
    waiting = stored_sample("BP-200")
    not_received = make_order([line(categories["bp"], "BP-300")]).samples.get()
    response = lead_client.get(UNASSIGNED)
    assert response.status_code == 200
    rows = [r.pk for r in response.context["page"]]
    assert waiting.pk in rows
    assert task.sample_id not in rows  # it has a task
    assert not_received.pk not in rows  # a lab sample not yet received
    assert waiting.sample_id.encode() in response.content
    assert task.sample.sample_id.encode() not in response.content


@pytest.mark.django_db
def test_unassigned_shows_registered_on_site_samples_with_their_visit_date(lead_client, on_site_order):
    order = on_site_order()
    sample = order.samples.get()
    assert sample.status == SampleStatus.REGISTERED
    response = lead_client.get(UNASSIGNED)
    row = next(r for r in response.context["page"] if r.pk == sample.pk)
    assert row.visit_date == order.visits.order_by("planned_date").first().planned_date
    assert row.visit_date.isoformat().encode() in response.content


@pytest.mark.django_db
def test_unassigned_searches_and_filters_by_service(lead_client, stored_sample):
    a, b = stored_sample("BP-AAA"), stored_sample("BP-BBB")
    response = lead_client.get(UNASSIGNED, {"q": "BP-BBB"})
    assert [r.pk for r in response.context["page"]] == [b.pk]
    response = lead_client.get(UNASSIGNED, {"service": "calibration"})
    assert list(response.context["page"]) == []
    response = lead_client.get(UNASSIGNED, {"service": "verification", "sort": "-id"})
    assert [r.pk for r in response.context["page"]] == [b.pk, a.pk]


@pytest.mark.django_db
def test_unassigned_highlights_an_overdue_order(lead_client, stored_sample):
    sample = stored_sample()
    sample.order.__class__.objects.filter(pk=sample.order_id).update(due_date=dt.date(2020, 1, 2))
    response = lead_client.get(UNASSIGNED)
    assert b'data-testid="overdue"' in response.content


# --- assignment (R-TST-1, R-TST-4) -----------------------------------------------------------


@pytest.mark.django_db
def test_assign_form_preselects_the_category_method_and_offers_only_authorised_people(
    lead_client, received_sample, method, template, performer, checker, make_technician, categories
):
    # The category names the default method by its full code.
    categories["bp"].__class__.objects.filter(pk=categories["bp"].pk).update(method_code="JJG 692-2010")
    outsider = make_technician("pump_only", activities=(Activity.PERFORM_CALIBRATION,), full_name="泵校准员")
    response = lead_client.get(ASSIGN, {"sample": received_sample.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form["method"].value() == method.pk
    offered = [value for value, _label in form.fields["performer"].widget.choices if value]
    assert performer.pk in offered and checker.pk in offered
    assert outsider.pk not in offered
    select = re.search(r'<select name="performer".*?</select>', response.content.decode(), re.S).group(0)
    rendered = {int(v) for v in re.findall(r'value="(\d+)"', select)}
    assert rendered == {performer.pk, checker.pk}


@pytest.mark.django_db
def test_assign_post_creates_the_task_and_the_performer_sees_it_in_my_tasks(
    lead_client, client, received_sample, method, template, performer, checker
):
    response = lead_client.post(ASSIGN, assign_data([received_sample], method, performer, checker, note="先测外观"))
    assert response.status_code == 302
    assert response["Location"].startswith(TASK_LIST)
    task = Task.objects.get(sample=received_sample)
    assert (task.performer, task.checker, task.method, task.status) == (performer, checker, method, TaskStatus.ASSIGNED)
    assert task.note == "先测外观"

    client.force_login(performer)
    response = client.get(MY_TASKS)
    assert [t.pk for t in response.context["to_do"]] == [task.pk]
    assert received_sample.sample_id.encode() in response.content
    assert reverse("certificates:task_start", args=[task.pk]).encode() in response.content
    assert b'data-testid="count-to-do">1<' in response.content


@pytest.mark.django_db
def test_assigning_the_performer_as_checker_rerenders_with_the_r_tst_1_error(
    lead_client, received_sample, method, template, performer
):
    """R-TST-1: the checker is a different person; the input is kept."""
    response = lead_client.post(ASSIGN, assign_data([received_sample], method, performer, performer, note="保留我"))
    assert response.status_code == 200
    assert "The checker must be a different person from the performer (R-TST-1)." in response.context["form"].errors["checker"]
    assert "保留我".encode() in response.content
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_a_forged_post_naming_an_unauthorised_performer_is_refused_by_the_service(
    lead_client, received_sample, method, template, checker, make_technician
):
    """R-TST-4: the page does not offer them; a forged POST reaches the service, which refuses."""
    outsider = make_technician("pump_only", activities=(Activity.PERFORM_CALIBRATION,), full_name="泵校准员")
    response = lead_client.post(ASSIGN, assign_data([received_sample], method, outsider, checker))
    assert response.status_code == 200
    errors = response.context["form"].errors["performer"]
    assert any("may not perform this work" in e for e in errors)
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_assigning_several_samples_is_all_or_nothing(
    lead_client, stored_sample, task, method, template, performer, checker
):
    free = stored_sample("BP-400")
    # task.sample already has a task: a forged selection of both must assign neither.
    response = lead_client.post(ASSIGN, assign_data([free, task.sample], method, performer, checker))
    assert response.status_code == 200
    assert any("already has a task" in e for e in response.context["form"].non_field_errors())
    assert not Task.objects.filter(sample=free).exists()


@pytest.mark.django_db
def test_assigning_several_samples_of_one_category_creates_a_task_for_each(
    lead_client, stored_sample, method, template, performer, checker
):
    samples = [stored_sample("BP-501"), stored_sample("BP-502")]
    response = lead_client.get(ASSIGN, {"sample": [s.pk for s in samples]})
    assert len(response.context["samples"]) == 2
    response = lead_client.post(ASSIGN, assign_data(samples, method, performer, checker))
    assert response.status_code == 302
    assert Task.objects.filter(sample__in=samples, performer=performer).count() == 2


@pytest.mark.django_db
def test_selecting_samples_of_different_categories_is_refused(lead_client, stored_sample):
    bp, pump = stored_sample("BP-600"), stored_sample("PU-600", category="pump")
    response = lead_client.get(ASSIGN, {"sample": [bp.pk, pump.pk]}, follow=True)
    assert response.redirect_chain[-1][0] == UNASSIGNED
    assert "Select samples of one instrument category and one service" in response.content.decode()


# --- start (R-TST-3 refusal, intake hand-off) ---------------------------------------------


@pytest.mark.django_db
def test_start_marks_the_sample_in_test_and_redirects_to_the_entry_page(client, task, performer):
    client.force_login(performer)
    response = client.post(reverse("certificates:task_start", args=[task.pk]))
    task.refresh_from_db()
    task.sample.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    assert task.sample.status == SampleStatus.IN_TEST
    assert response.status_code == 302
    assert response["Location"] == reverse("certificates:record_entry", args=[task.record.pk])


@pytest.mark.django_db
def test_start_is_post_only(client, task, performer):
    client.force_login(performer)
    assert client.get(reverse("certificates:task_start", args=[task.pk])).status_code == 405


@pytest.mark.django_db
def test_a_superseded_method_refuses_start_with_a_clear_message(client, settings, task, performer, method_lead, categories):
    newer = method_services.save_method(
        actor=method_lead, categories=[categories["bp"]],
        data={"code": "JJG 692", "edition": "2025", "title": "无创自动测量血压计", "kind": "verification", "effective_on": "2025-07-01"},
    )
    method_services.approve_method(actor=method_lead, method=newer)
    english(client, settings, performer)
    response = client.post(reverse("certificates:task_start", args=[task.pk]), follow=True)
    assert response.redirect_chain[-1][0] == MY_TASKS
    text = response.content.decode()
    assert "JJG 692-2010 is Superseded; the task must be cancelled and assigned again with the current edition (R-TST-3)." in text
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED


@pytest.mark.django_db
def test_only_the_performer_starts_the_task(client, settings, task, checker):
    english(client, settings, checker)
    response = client.post(reverse("certificates:task_start", args=[task.pk]), follow=True)
    assert "Only the performer named on the task starts it." in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED


# --- my tasks ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_tasks_puts_returned_tasks_first_with_the_checkers_comments(
    client, signed_record, checker, performer, stored_sample, method, method_lead
):
    later = task_services.assign_task(
        actor=method_lead, sample=stored_sample("BP-700"), method=method, performer=performer, checker=checker
    )
    record_services.return_record(actor=checker, record=signed_record, comments="第 2 点读数请复核")
    client.force_login(performer)
    response = client.get(MY_TASKS)
    to_do = response.context["to_do"]
    assert [t.pk for t in to_do] == [signed_record.task_id, later.pk]
    assert to_do[0].return_comments == "第 2 点读数请复核"
    assert "第 2 点读数请复核".encode() in response.content
    assert to_do[0].action.kind == "entry"
    assert RecordCheck.objects.filter(record=signed_record).count() == 1


@pytest.mark.django_db
def test_the_checker_sees_signed_records_to_check(client, signed_record, checker):
    client.force_login(checker)
    response = client.get(MY_TASKS)
    assert [t.pk for t in response.context["to_check"]] == [signed_record.task_id]
    assert reverse("certificates:record_detail", args=[signed_record.pk]).encode() in response.content
    assert b'data-testid="count-to-check">1<' in response.content


@pytest.mark.django_db
def test_on_site_tasks_are_grouped_by_visit(client, on_site_order, method, template, performer, checker, method_lead):
    """R-ONS-3: on site, the technician sees the work of each visit together."""
    order = on_site_order(quantity=3)
    first, second = order.visits.order_by("planned_date")
    samples = list(order.samples.order_by("sample_id"))
    for sample, visit in zip(samples, (first, first, second), strict=True):
        task_services.assign_task(actor=method_lead, sample=sample, method=method, performer=performer, checker=checker, visit=visit)
    client.force_login(performer)
    response = client.get(MY_TASKS)
    groups = response.context["visit_groups"]
    assert [g.visit for g in groups] == [first, second]
    assert [t.sample for t in groups[0].tasks] == samples[:2]
    assert [t.sample for t in groups[1].tasks] == samples[2:]
    assert response.context["to_do"] == []  # on-site work is not repeated in the lab queue
    content = response.content.decode()
    assert first.site_address in content and second.site_address in content
    assert content.count('data-testid="visit-group"') == 2


@pytest.mark.django_db
def test_an_on_site_task_starts_from_registered(client, on_site_order, method, template, performer, checker, method_lead):
    sample = on_site_order().samples.get()
    task = task_services.assign_task(actor=method_lead, sample=sample, method=method, performer=performer, checker=checker)
    client.force_login(performer)
    response = client.post(reverse("certificates:task_start", args=[task.pk]))
    sample.refresh_from_db()
    assert sample.status == SampleStatus.IN_TEST
    assert response.status_code == 302


# --- task list, reassign, cancel ---------------------------------------------------------


@pytest.mark.django_db
def test_task_list_filters_by_performer_status_and_search(lead_client, task, performer, checker):
    assert [t.pk for t in lead_client.get(TASK_LIST).context["page"]] == [task.pk]
    assert [t.pk for t in lead_client.get(TASK_LIST, {"performer": performer.pk}).context["page"]] == [task.pk]
    assert list(lead_client.get(TASK_LIST, {"performer": checker.pk}).context["page"]) == []
    assert list(lead_client.get(TASK_LIST, {"status": "checked"}).context["page"]) == []
    assert [t.pk for t in lead_client.get(TASK_LIST, {"q": "BP-001"}).context["page"]] == [task.pk]
    assert list(lead_client.get(TASK_LIST, {"q": "nothing-like-this"}).context["page"]) == []


@pytest.mark.django_db
def test_reassigning_changes_the_checker_with_a_reason(lead_client, task, performer, make_technician):
    other = make_technician("check_2", full_name="核验员丙")
    url = reverse("certificates:task_reassign", args=[task.pk])
    assert lead_client.get(url).status_code == 200
    response = lead_client.post(url, {"performer": performer.pk, "checker": other.pk, "reason": "乙出差"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.checker == other


@pytest.mark.django_db
def test_reassigning_without_a_reason_keeps_the_input(lead_client, task, performer, make_technician):
    other = make_technician("check_2", full_name="核验员丙")
    response = lead_client.post(reverse("certificates:task_reassign", args=[task.pk]), {"performer": performer.pk, "checker": other.pk, "reason": ""})
    assert response.status_code == 200
    assert response.context["form"]["checker"].value() == str(other.pk)
    task.refresh_from_db()
    assert task.checker != other


@pytest.mark.django_db
def test_after_the_performer_signs_only_the_checker_can_be_reassigned(lead_client, signed_record, performer, make_technician):
    """R-TST-1: the performer field is fixed and the performer is not offered as checker."""
    other = make_technician("check_2", full_name="核验员丙")
    newcomer = make_technician("perf_2", full_name="检定员丁")
    url = reverse("certificates:task_reassign", args=[signed_record.task_id])
    form = lead_client.get(url).context["form"]
    assert form.fields["performer"].disabled
    assert performer.pk not in [value for value, _label in form.fields["checker"].widget.choices if value]
    response = lead_client.post(url, {"performer": newcomer.pk, "checker": other.pk, "reason": "乙休假"})
    assert response.status_code == 302
    task = Task.objects.get(pk=signed_record.task_id)
    assert (task.performer, task.checker) == (performer, other)


@pytest.mark.django_db
def test_cancelling_a_task_puts_the_sample_back_in_the_queue(lead_client, task):
    response = lead_client.post(reverse("certificates:task_cancel", args=[task.pk]), {"cancel-reason": "客户撤回"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    assert task.sample_id in [s.pk for s in lead_client.get(UNASSIGNED).context["page"]]


@pytest.mark.django_db
def test_a_started_task_is_not_cancelled(lead_client, record):
    response = lead_client.post(reverse("certificates:task_cancel", args=[record.task_id]), {"cancel-reason": "不做了"})
    assert response.status_code == 200
    assert "cannot be cancelled" in response.content.decode()
    record.task.refresh_from_db()
    assert record.task.status == TaskStatus.IN_PROGRESS


# --- constant queries ---------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_list_pages_use_a_constant_number_of_queries(
    client, on_site_order, method, template, performer, checker, method_lead
):
    """3 rows and 25 rows cost the same number of queries on every list."""
    client.force_login(method_lead)

    def assign(order):
        for sample in order.samples.all():
            task_services.assign_task(actor=method_lead, sample=sample, method=method, performer=performer, checker=checker)

    on_site_order(3, "A")
    assign(on_site_order(3, "B"))
    performer_view = client.__class__()
    performer_view.force_login(performer)
    before = (_queries(client, UNASSIGNED), _queries(client, TASK_LIST), _queries(performer_view, MY_TASKS))

    on_site_order(22, "C")
    assign(on_site_order(22, "D"))
    after = (_queries(client, UNASSIGNED), _queries(client, TASK_LIST), _queries(performer_view, MY_TASKS))
    assert client.get(UNASSIGNED).context["page"].paginator.count == 25
    assert performer_view.get(MY_TASKS).context["on_site_count"] == 25
    assert before == after


# --- who may see what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["counter", "customer"])
@pytest.mark.parametrize(
    ("name", "method_name"),
    [
        ("unassigned", "get"),
        ("my_tasks", "get"),
        ("task_list", "get"),
        ("task_assign", "get"),
        ("task_assign", "post"),
        ("task_start", "post"),
        ("task_reassign", "get"),
        ("task_reassign", "post"),
        ("task_cancel", "post"),
    ],
)
@pytest.mark.django_db
def test_counter_staff_and_customers_get_404_everywhere(request, client, task, role, name, method_name, method, performer, checker):
    client.force_login(request.getfixturevalue(role))
    url = reverse(f"certificates:{name}", args=[task.pk] if name in ("task_start", "task_reassign", "task_cancel") else [])
    data = assign_data([task.sample], method, performer, checker) if name == "task_assign" else {"reason": "x"}
    if method_name == "get" and name == "task_assign":
        url += f"?sample={task.sample_id}"
    response = getattr(client, method_name)(url, data if method_name == "post" else None)
    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.ASSIGNED


@pytest.mark.parametrize("name", ["task_assign", "task_reassign", "task_cancel"])
@pytest.mark.django_db
def test_the_quality_lead_reads_tasks_but_does_not_assign(client, qualitylead, task, name):
    client.force_login(qualitylead)
    assert client.get(TASK_LIST).status_code == 200
    url = reverse(f"certificates:{name}", args=[] if name == "task_assign" else [task.pk])
    assert client.post(url, {"sample": task.sample_id}).status_code == 404


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(MY_TASKS)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_second_start_opens_the_record_instead_of_an_error(client, task, performer):
    """A double click on "start" on a tablet lands in the record, not on an error."""
    client.force_login(performer)
    first = client.post(reverse("certificates:task_start", args=[task.pk]))
    second = client.post(reverse("certificates:task_start", args=[task.pk]))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert "/entry/" in second["Location"]
