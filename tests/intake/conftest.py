"""Shared intake fixtures: an authorised clerk, categories with the authorised scope,
a customer with a portal account, and a helper that builds orders through the services."""

import datetime as dt
from decimal import Decimal

import pytest

from intake.models import (
    AuthorisedScope,
    Contact,
    Customer,
    CustomerAccount,
    InstrumentCategory,
    Service,
    StorageLocation,
)
from intake.services import orders as order_services
from intake.services import samples as sample_services
from labqms.models import Activity, Role
from tests.factories import AuthorisationFactory


@pytest.fixture
def clerk(make_user, head):
    """Counter staff authorised to receive orders (intake.receive_order)."""
    user = make_user(Role.COUNTER_STAFF, username="clerk_t", full_name="柜台小李")
    AuthorisationFactory(person=user, activity=Activity.RECEIVE_ORDERS, authorised_by=head)
    return user


@pytest.fixture
def categories(db):
    """bp: compulsory (verification, 5 days); pump: calibration (7 days);
    ct: compulsory but OUTSIDE the authorised scope."""

    def make(code, zh, en, compulsory, service, days, fee, scoped=True):
        category = InstrumentCategory.objects.create(
            code=code, name_zh=zh, name_en=en, compulsory=compulsory, default_service=service,
            method_code="JJG 0-0000", method_title=zh, verification_period_months=12 if compulsory else None,
            turnaround_days=days, standard_fee=Decimal(fee),
        )
        if scoped:
            AuthorisedScope.objects.create(
                category=category, service=service, certificate_no="(苏)法计(2024)1号",
                valid_from=dt.date(2024, 1, 1), valid_until=dt.date(2030, 12, 31),
            )
        return category

    return {
        "bp": make("BP", "血压计", "Sphygmomanometer", True, Service.VERIFICATION, 5, "80.00"),
        "pump": make("PUMP", "输液泵", "Infusion pump", False, Service.CALIBRATION, 7, "150.00"),
        "ct": make("CT", "CT机", "CT scanner", True, Service.VERIFICATION, 10, "1500.00", scoped=False),
    }


@pytest.fixture
def hospital(db):
    customer = Customer.objects.create(
        name="市第一人民医院", short_name="一院", department="设备科", email="sbk@h1.example.cn"
    )
    Contact.objects.create(customer=customer, name="刘洋", phone="13800000001", email="ly@h1.example.cn")
    return customer


@pytest.fixture
def other_hospital(db):
    customer = Customer.objects.create(name="市第二人民医院", short_name="二院", email="x@h2.example.cn")
    Contact.objects.create(customer=customer, name="王芳", phone="13900000002")
    return customer


@pytest.fixture
def portal_user(make_user, hospital):
    user = make_user(Role.CUSTOMER, username="h1_portal", full_name="刘洋")
    CustomerAccount.objects.create(user=user, customer=hospital, contact=hospital.contacts.first())
    return user


@pytest.fixture
def location(db):
    return StorageLocation.objects.create(code="R1", name="收样室")


def line(category, serials="S1", name=None, quantity=1, **extra):
    """One instrument line as the services take it."""
    return {
        "instrument_name": name or category.name_zh,
        "category": category,
        "model": "M-1",
        "serial_number": serials,
        "manufacturer": "某厂",
        "quantity": quantity,
        **extra,
    }


@pytest.fixture
def make_order(clerk, hospital):
    """``make_order(lines, stage)``: stage is "draft", "reviewed", "confirmed" or "accepted"."""

    def make(lines, stage="accepted", customer=None, **kwargs):
        customer = customer or hospital
        order = order_services.create_order(
            actor=clerk, customer=customer, contact=customer.contacts.first(), lines=lines, **kwargs
        )
        if stage == "draft":
            return order
        order_services.review_order(
            actor=clerk, order=order, decision="accept", lawful=True, requirements_clear=True,
            competent=True, terms_agreed=True,
        )
        if stage == "reviewed":
            return order
        order_services.record_confirmation(actor=clerk, order=order, signer_name="刘洋")
        if stage == "confirmed":
            return order
        return order_services.accept_order(actor=clerk, order=order)

    return make


@pytest.fixture
def received_sample(make_order, categories, clerk, location):
    """A stored sample of an accepted one-line order."""
    order = make_order([line(categories["bp"], "BP-001")])
    sample = order.samples.get()
    return sample_services.receive_sample(actor=clerk, sample=sample, location=location)
