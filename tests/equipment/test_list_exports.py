"""Excel export and rows per page on every equipment staff list (R-MGT-4, R-EQP-1):
the equipment list (``?format=xlsx``, and its older ``export.xlsx`` address), the
measurement standards, the due / overdue page and the impact analyses."""

import datetime as dt
import itertools

import pytest
from django.urls import reverse

from equipment.models import (
    CheckPlan,
    Equipment,
    EquipmentKind,
    ImpactAnalysis,
    ImpactStatus,
    ImpactTrigger,
    MeasurementStandard,
)
from tests.labqms.test_export import (
    assert_export_is_the_list,
    assert_header_translated,
    assert_paging_and_export_queries_are_constant,
    column,
    english,
    get_xlsx,
    queries,
    rows_of,
)

_n = itertools.count(1)


@pytest.fixture
def staff(client, technician):
    client.force_login(technician)
    return english(client)


def bulk_equipment(n, custodian, *, due=None, kind=EquipmentKind.TEST, standard=None):
    rows = Equipment.objects.bulk_create(
        Equipment(
            lab_id=f"BULK-{next(_n):05d}", name="设备", kind=kind, custodian=custodian, needs_calibration=True,
            calibration_interval_months=12, calibration_due=due,
        )
        for _ in range(n)
    )
    if standard is not None:
        standard.members.add(*rows)
    return rows


def bulk_standards(n, today, *, valid_until=None, members=()):
    standards = MeasurementStandard.objects.bulk_create(
        MeasurementStandard(name=f"标准 {next(_n):05d}", certificate_no="S", valid_from=today, valid_until=valid_until)
        for _ in range(n)
    )
    for standard in standards:
        standard.members.add(*members)
    return standards


def bulk_analyses(n, lead, today, *, status=ImpactStatus.OPEN):
    return [
        ImpactAnalysis.objects.create(
            equipment=equipment, trigger=ImpactTrigger.FAILED_CHECK, trigger_detail="x", found_on=today,
            opened_by=lead, nonconformity="NC", status=status,
        )
        for equipment in bulk_equipment(n, lead)
    ]


# --- the export holds the filtered list -----------------------------------------------------


@pytest.mark.django_db
def test_equipment_export_is_the_filtered_list_on_both_addresses_R_EQP_1(staff, operator, today):
    late = bulk_equipment(3, operator, due=today - dt.timedelta(days=1))
    bulk_equipment(2, operator, due=today + dt.timedelta(days=200))
    url = reverse("equipment:equipment_list")
    params = {"overdue": "on", "sort": "-lab_id"}
    shown = assert_export_is_the_list(staff, url, params, lambda e: e.lab_id, "Lab ID")
    assert shown == sorted((e.lab_id for e in late), reverse=True)
    old = staff.get(reverse("equipment:equipment_export_xlsx"), params)
    assert column(old, "Lab ID") == shown
    assert rows_of(old)[0] == rows_of(get_xlsx(staff, url, params))[0]


@pytest.mark.django_db
def test_standard_export_is_the_filtered_list_R_MGT_4(staff, operator, today):
    members = bulk_equipment(2, operator)
    expired = bulk_standards(2, today - dt.timedelta(days=400), valid_until=today - dt.timedelta(days=1), members=members)
    bulk_standards(3, today)
    url = reverse("equipment:standard_list")
    shown = assert_export_is_the_list(staff, url, {"state": "expired"}, lambda s: s.name, "Name")
    assert shown == [s.name for s in expired]
    header, rows = rows_of(get_xlsx(staff, url, {"state": "expired"}))
    assert rows[0][header.index("Validity")] == "expired"
    assert rows[0][header.index("Equipment")] == "; ".join(sorted(e.lab_id for e in members))


@pytest.mark.django_db
def test_impact_export_is_the_filtered_list_R_MGT_4(staff, lead, today):
    decided = bulk_analyses(2, lead, today, status=ImpactStatus.DECIDED)
    bulk_analyses(3, lead, today)
    url = reverse("equipment:impact_list")
    assert len(assert_export_is_the_list(staff, url, {}, lambda a: a.pk, "#")) == 5
    shown = assert_export_is_the_list(staff, url, {"status": ImpactStatus.DECIDED}, lambda a: a.pk, "#")
    assert sorted(shown) == sorted(a.pk for a in decided)


@pytest.mark.django_db
def test_due_list_export_holds_the_pages_four_tables_in_order_R_EQP_10(staff, operator, today):
    overdue = bulk_equipment(2, operator, due=today - dt.timedelta(days=5))
    due_soon = bulk_equipment(2, operator, due=today + dt.timedelta(days=3))
    bulk_equipment(2, operator, due=today + dt.timedelta(days=300))  # not due: not on the page
    expiring = bulk_standards(1, today, valid_until=today + dt.timedelta(days=10))
    CheckPlan.objects.create(
        equipment=overdue[0], interval_months=6, method="m", criterion="en", next_due=today - dt.timedelta(days=2)
    )
    url = reverse("equipment:due_list")
    page = staff.get(url).context
    header, rows = rows_of(get_xlsx(staff, url))
    assert header[:3] == ["Section", "Due on", "Days left"]
    expected = (
        [e.lab_id for e in page["overdue"]] + [e.lab_id for e in page["due_soon"]]
        + [s.certificate_no for s in page["standards"]] + [p.equipment.lab_id for p in page["checks"]]
    )
    assert [row[3] for row in rows] == expected
    assert [row[3] for row in rows][:4] == sorted(e.lab_id for e in overdue) + sorted(e.lab_id for e in due_soon)
    assert [row[2] for row in rows] == [-5, -5, 3, 3, 10, -2]
    assert rows[4][4] == expiring[0].name
    assert {row[0] for row in rows} == {
        "Calibration overdue", "Calibration due within 30 days",
        "Measurement standard certificates expired or expiring", "Intermediate checks overdue",
    }


# --- language, permissions ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_header_is_in_the_active_language(client, technician, operator, today):
    bulk_standards(1, today)
    client.force_login(technician)
    url = reverse("equipment:standard_list")
    assert_header_translated(client, url, 5, "Validity")


LISTS = ["equipment:equipment_list", "equipment:standard_list", "equipment:due_list", "equipment:impact_list"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", LISTS)
def test_customers_get_404_for_the_export_as_for_the_list(client, name, customer, operator, today):
    bulk_equipment(1, operator, due=today)
    url = reverse(name)
    assert get_xlsx(client, url).status_code == 302  # anonymous: sign in first
    client.force_login(customer)
    assert client.get(url).status_code == 404
    assert get_xlsx(client, url).status_code == 404


# --- constant queries, rows per page -------------------------------------------------------


@pytest.mark.django_db
def test_equipment_list_queries_R_MGT_4(staff, operator, today, lead):
    standard = bulk_standards(1, today)[0]
    assert_paging_and_export_queries_are_constant(
        staff, reverse("equipment:equipment_list"), lambda n: bulk_equipment(n, operator, due=today, standard=standard)
    )


@pytest.mark.django_db
def test_standard_list_queries_R_MGT_4(staff, operator, today):
    members = bulk_equipment(2, operator)
    assert_paging_and_export_queries_are_constant(
        staff, reverse("equipment:standard_list"), lambda n: bulk_standards(n, today, members=members)
    )


@pytest.mark.django_db
def test_impact_list_queries_R_MGT_4(staff, lead, today):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("equipment:impact_list"), lambda n: bulk_analyses(n, lead, today)
    )


@pytest.mark.django_db
def test_due_list_export_queries_do_not_grow_R_MGT_4(staff, operator, today):
    url = reverse("equipment:due_list")
    members = bulk_equipment(2, operator, due=today + dt.timedelta(days=300))

    def add(n):
        late = bulk_equipment(n, operator, due=today - dt.timedelta(days=1))
        bulk_equipment(n, operator, due=today + dt.timedelta(days=1))
        bulk_standards(n, today, valid_until=today, members=members)
        for equipment in late:
            CheckPlan.objects.create(
                equipment=equipment, interval_months=6, method="m", criterion="en", next_due=today - dt.timedelta(days=1)
            )

    add(3)
    few = queries(staff, url, {"format": "xlsx"})
    add(27)
    assert queries(staff, url, {"format": "xlsx"}) == few
    assert len(rows_of(get_xlsx(staff, url))[1]) == 4 * 30
