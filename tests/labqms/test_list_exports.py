"""Excel export and rows per page on the kernel's staff lists (R-MGT-4): people
(R-PER-4) and the audit trail.  The audit trail is the leads' (``audit.view``): staff
who may not open it get the same 404 for its export."""

import pytest
from django.urls import reverse

from labqms.models import AuditEvent, Role
from tests.factories import StaffProfileFactory, UserFactory
from tests.labqms.test_export import (
    assert_export_is_the_list,
    assert_header_translated,
    assert_paging_and_export_queries_are_constant,
    column,
    english,
    get_xlsx,
    rows_of,
)


@pytest.fixture
def staff(client, head):
    client.force_login(head)
    return english(client)


def people(n, role=Role.TECHNICIAN, department="医学计量室"):
    made = []
    for _ in range(n):
        user = UserFactory(roles=[role])
        StaffProfileFactory(user=user, department=department)
        made.append(user)
    return made


def events(n, actor, action="sample.received"):
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=actor, source="test", action=action, target_repr=f"YP-{i}", changes={"status": ["a", "b"]})
        for i in range(n)
    )


@pytest.mark.django_db
def test_people_export_is_the_filtered_list_R_PER_4(staff, head):
    counter = people(2, Role.COUNTER_STAFF, department="业务受理室")
    people(3)
    url = reverse("people:person_list")
    assert len(assert_export_is_the_list(staff, url, {}, lambda p: p.username, "User name")) == 6  # and the head
    shown = assert_export_is_the_list(staff, url, {"role": Role.COUNTER_STAFF}, lambda p: p.username, "User name")
    assert shown == sorted(u.username for u in counter)
    assert column(get_xlsx(staff, url, {"role": Role.COUNTER_STAFF}), "Department") == ["业务受理室"] * 2
    assert column(get_xlsx(staff, url, {"role": Role.COUNTER_STAFF}), "Roles") == ["Counter staff"] * 2


@pytest.mark.django_db
def test_audit_trail_export_is_the_filtered_trail(staff, head, technician):
    events(2, technician)
    events(3, head, action="order.accepted")
    url = reverse("people:audit_list")
    shown = assert_export_is_the_list(staff, url, {"actor": technician.pk}, lambda e: e.target_repr, "Object")
    assert sorted(shown) == ["YP-0", "YP-1"]
    header, rows = rows_of(get_xlsx(staff, url, {"actor": technician.pk}))
    assert rows[0][header.index("Who")] == str(technician)
    assert rows[0][header.index("Changes")].endswith("a → b")


@pytest.mark.django_db
def test_the_header_is_in_the_active_language(client, head):
    client.force_login(head)
    url = reverse("people:person_list")
    assert_header_translated(client, url, 1, "User name")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "person_list", "audit_list"),
    [
        (Role.CUSTOMER, 404, 404),
        (Role.COUNTER_STAFF, 200, 404),
        (Role.TECHNICIAN, 200, 404),
        (Role.QUALITY_LEAD, 200, 200),
    ],
)
def test_the_export_answers_like_the_list(client, role, person_list, audit_list, head):
    events(1, head)
    client.force_login(UserFactory(roles=[role]))
    for name, expected in (("people:person_list", person_list), ("people:audit_list", audit_list)):
        url = reverse(name)
        assert client.get(url).status_code == expected
        assert get_xlsx(client, url).status_code == expected


@pytest.mark.django_db
def test_person_list_queries_R_MGT_4(staff):
    assert_paging_and_export_queries_are_constant(staff, reverse("people:person_list"), people)


@pytest.mark.django_db
def test_audit_trail_queries_R_MGT_4(staff, head):
    assert_paging_and_export_queries_are_constant(staff, reverse("people:audit_list"), lambda n: events(n, head))
