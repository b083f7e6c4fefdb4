"""Rules tightened after a code review."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from intake.services import catalogue
from labqms.models import AuditEvent


@pytest.mark.django_db
def test_ending_a_scope_never_extends_it(categories, techlead):
    """R-INT-2: the authorised scope ends; "ending" it later than it ends is refused."""
    scope = categories["bp"].scopes.get()
    with pytest.raises(ValidationError):
        catalogue.end_scope(actor=techlead, scope=scope, last_day=dt.date(2031, 6, 30), reason="延期")
    scope.refresh_from_db()
    assert scope.valid_until == dt.date(2030, 12, 31)
    catalogue.end_scope(actor=techlead, scope=scope, last_day=dt.date(2029, 12, 31), reason="授权证书注销")
    scope.refresh_from_db()
    assert scope.valid_until == dt.date(2029, 12, 31)


@pytest.mark.django_db
def test_order_released_goes_through_the_table_and_is_audited(make_order, categories, clerk, technician, location):
    """R-INT-7: the order's last step (completed → released) is an audited transition."""
    from intake.models import OrderStatus
    from intake.services import orders, samples

    order = make_order([line_for(categories)])
    sample = order.samples.get()
    samples.receive_sample(actor=clerk, sample=sample, location=location)
    samples.mark_sample_in_test(actor=technician, sample=sample)
    samples.mark_sample_tested(actor=technician, sample=sample)
    samples.check_integrity(actor=clerk, sample=sample, intact=True)
    orders.record_payment(actor=clerk, order=order, amount="80.00", method="cash", receipt_no="R-1")
    sample.refresh_from_db()
    samples.release_samples(actor=clerk, order=order, samples=[sample], receiver_name="刘洋",
                            receiver_id_document="身份证 1234", handed_over="器具及证书")
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    event = AuditEvent.objects.get(action="order.status_released", target_id=str(order.pk))
    assert event.changes["status"] == [OrderStatus.COMPLETED, OrderStatus.RELEASED]


def line_for(categories):
    from tests.intake.conftest import line

    return line(categories["bp"], "BP-R1")


@pytest.mark.django_db
def test_fee_changes_in_the_review_are_audited_per_line(make_order, categories, clerk):
    """R-INT-4 (d): the agreed price per line is traceable, old → new."""
    from intake.services import orders

    order = make_order([line_for(categories)], stage="draft")
    item = order.items.get()
    orders.review_order(actor=clerk, order=order, decision="accept", lawful=True, requirements_clear=True,
                        competent=True, terms_agreed=True, fees={item.pk: "60.00"})
    event = AuditEvent.objects.get(action="order.reviewed", target_id=str(order.pk))
    assert event.changes["fees"] == {"1": ["80.00", "60.00"]}


@pytest.mark.django_db
def test_categories_are_not_edited_in_the_admin(client, make_user, categories):
    """The compulsory → verification rule and the audit event live in save_category;
    the admin shows categories but cannot change them."""
    from django.urls import reverse

    from labqms.models import Role

    client.force_login(make_user(Role.LAB_HEAD, username="head_admin2", is_staff=True, is_superuser=True))
    url = reverse("admin:intake_instrumentcategory_change", args=[categories["bp"].pk])
    assert client.get(url).status_code == 200
    client.post(url, {"code": "BP", "name_zh": "改名", "name_en": "x", "turnaround_days": 1, "standard_fee": "1"})
    categories["bp"].refresh_from_db()
    assert categories["bp"].name_zh == "血压计"
    assert client.get(reverse("admin:intake_instrumentcategory_add")).status_code == 403
