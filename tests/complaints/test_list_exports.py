"""Excel export and rows per page on the staff complaint list (R-MGT-4, R-CMP-3): the
workbook holds the filtered complaints in the list's order (open ones by reply due date)
with the working days left; customers get 404 for it as for the list."""

import pytest
from django.urls import reverse

from complaints.models import Channel, ComplaintStatus
from complaints.services import complaints as services
from tests.complaints.conftest import COMPLAINANT, DEPARTMENT
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
def staff(client, handler):
    client.force_login(handler)
    return english(client)


@pytest.fixture
def register(counter, handler, responsible):
    """``register(n, accept=False)``: n complaints by telephone, accepted if asked."""

    def make(n, accept=False, **data):
        made = []
        for _ in range(n):
            complaint = services.register(actor=counter, channel=Channel.HOTLINE, data={**COMPLAINANT, **data})
            if accept:
                complaint = services.accept(
                    actor=handler, complaint=complaint, department=DEPARTMENT, responsible_person=responsible
                )
            made.append(complaint)
        return made

    return make


@pytest.mark.django_db
def test_complaint_export_is_the_filtered_list_R_MGT_4(staff, register):
    accepted = register(2, accept=True)
    register(3, subject="别的事")
    url = reverse("complaints:complaint_list")
    assert len(assert_export_is_the_list(staff, url, {}, lambda c: c.number, "Complaint number")) == 5
    shown = assert_export_is_the_list(
        staff, url, {"status": ComplaintStatus.ACCEPTED}, lambda c: c.number, "Complaint number"
    )
    assert sorted(shown) == sorted(c.number for c in accepted)
    params = {"status": ComplaintStatus.ACCEPTED}
    clocks = {c.number: clock for c, clock in staff.get(url, params).context["rows"]}
    header, rows = rows_of(get_xlsx(staff, url, params))
    row = dict(zip(header, rows[0], strict=True))
    assert row["Working days left"] == clocks[row["Complaint number"]].left is not None
    assert row["Reply clock"] == "On track"
    assert row["Responsible person"] == "室主任"
    assert column(get_xlsx(staff, url, {"q": "别的事"}), "Subject") == ["别的事"] * 3


@pytest.mark.django_db
def test_the_header_is_in_the_active_language(client, handler, register):
    register(1)
    client.force_login(handler)
    url = reverse("complaints:complaint_list")
    assert_header_translated(client, url, 0, "Complaint number")


@pytest.mark.django_db
def test_customers_get_404_for_the_export_as_for_the_list(client, portal_user, register):
    """R-INT-9: a customer follows their own complaints in the portal, never the staff list."""
    register(1)
    url = reverse("complaints:complaint_list")
    assert get_xlsx(client, url).status_code == 302
    client.force_login(portal_user)
    assert client.get(url).status_code == 404
    assert get_xlsx(client, url).status_code == 404


@pytest.mark.django_db
def test_complaint_list_queries_R_MGT_4(staff, register):
    assert_paging_and_export_queries_are_constant(
        staff, reverse("complaints:complaint_list"), lambda n: register(n, accept=True)
    )
