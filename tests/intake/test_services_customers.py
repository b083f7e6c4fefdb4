"""Customer services (R-INT-3, R-INT-9): near-duplicate organisations are flagged before a
second one is created; credit codes are checked; changes are audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from intake.models import Contact, Customer
from intake.services import customers as customer_services
from labqms import audit

GOOD_CODE = "91320100MA1N2B3C4D"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["市第一人民医院 ", "市第一人民医院（总院）", " 市第一人民医院(总院) ", "市第一人民医院有限公司"])
def test_near_duplicates_find_the_same_hospital(hospital, other_hospital, typed):
    """R-INT-3: one customer per organisation: spacing, brackets and suffixes do not hide it.
    (The one-character ratio rule also flags 市第二人民医院; the clerk then confirms.)"""
    assert "市第一人民医院" in near_names(typed)


def near_names(name, **kwargs):
    return [c.name for c in customer_services.near_duplicates(name, **kwargs)]


@pytest.mark.django_db
def test_near_duplicates_ignore_different_organisations(hospital):
    assert near_names("省人民医院") == []
    assert near_names("   ") == []
    assert near_names("市第一人民医院", exclude_pk=hospital.pk) == []


@pytest.mark.django_db
def test_create_customer_refuses_a_near_duplicate_unless_confirmed(clerk, hospital):
    """R-INT-3: a similar name raises code "near_duplicate" naming the existing one; the
    clerk may confirm it is a different organisation."""
    with pytest.raises(ValidationError) as error:
        customer_services.create_customer(actor=clerk, data={"name": "市第一人民医院（总院）"})
    assert error.value.code == "near_duplicate"
    assert "市第一人民医院" in error.value.messages[0]
    assert Customer.objects.count() == 1

    created = customer_services.create_customer(
        actor=clerk, data={"name": "市第一人民医院（总院）", "email": "zy@h1.example.cn"}, allow_similar=True
    )
    assert created.created_by == clerk and Customer.objects.count() == 2
    event = audit.events_for(created).get(action="customer.created")
    assert event.changes["name"] == [None, "市第一人民医院（总院）"]


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["12345", "91320100MA1N2B3C4DX", "91320100MA1N2B3C4I", "9132010OMA1N2B3C4D"])
def test_malformed_credit_code_is_refused(clerk, code):
    """R-INT-3: the unified social credit code has 18 characters of the official alphabet."""
    with pytest.raises(ValidationError) as error:
        customer_services.create_customer(actor=clerk, data={"name": "某某诊所", "credit_code": code})
    assert "credit_code" in error.value.message_dict
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_credit_code_is_upper_cased_and_unique_per_department(clerk):
    first = customer_services.create_customer(
        actor=clerk, data={"name": "某某诊所", "credit_code": GOOD_CODE.lower(), "department": "检验科"}
    )
    assert first.credit_code == GOOD_CODE
    with pytest.raises(ValidationError) as error:
        customer_services.create_customer(
            actor=clerk, data={"name": "另一家", "credit_code": GOOD_CODE, "department": "检验科"}
        )
    assert "credit_code" in error.value.message_dict
    second = customer_services.create_customer(
        actor=clerk, data={"name": "某某诊所", "credit_code": GOOD_CODE, "department": "放射科"}, allow_similar=True
    )
    assert second.pk != first.pk


@pytest.mark.django_db
def test_customer_needs_a_name(clerk):
    with pytest.raises(ValidationError) as error:
        customer_services.create_customer(actor=clerk, data={"name": "  "})
    assert "name" in error.value.message_dict


@pytest.mark.django_db
def test_update_customer_is_audited_with_old_values(clerk, hospital):
    customer_services.update_customer(
        actor=clerk, customer=hospital, data={"name": hospital.name, "department": "医学装备部", "email": hospital.email}
    )
    hospital.refresh_from_db()
    assert hospital.department == "医学装备部"
    event = audit.events_for(hospital).get(action="customer.updated")
    assert event.changes["department"] == ["设备科", "医学装备部"]


@pytest.mark.django_db
def test_contact_needs_a_name_and_a_way_to_reach_them(clerk, hospital):
    with pytest.raises(ValidationError):
        customer_services.add_contact(actor=clerk, customer=hospital, name="", phone="1")
    with pytest.raises(ValidationError):
        customer_services.add_contact(actor=clerk, customer=hospital, name="张三")
    contact = customer_services.add_contact(actor=clerk, customer=hospital, name="张三", email="zs@h1.example.cn")
    assert contact.customer == hospital
    assert Contact.objects.filter(customer=hospital).count() == 2


@pytest.mark.django_db
def test_only_authorised_counter_staff_manage_customers(counter, technician, portal_user, hospital):
    """R-INT-9: customer data is handled by authorised counter staff only."""
    for actor in (counter, technician, portal_user):
        with pytest.raises(PermissionDenied):
            customer_services.create_customer(actor=actor, data={"name": "新客户"})
        with pytest.raises(PermissionDenied):
            customer_services.update_customer(actor=actor, customer=hospital, data={"name": "改名"})
        with pytest.raises(PermissionDenied):
            customer_services.add_contact(actor=actor, customer=hospital, name="x", phone="1")
    hospital.refresh_from_db()
    assert hospital.name == "市第一人民医院"
