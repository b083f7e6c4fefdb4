"""Portal services (R-INT-1, R-INT-2, R-INT-3, R-INT-9): customers book work online for
their own organisation; the counter turns a request into an order (scope checked then);
portal confirmation only for one's own organisation's orders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from intake.models import (
    Channel,
    ConfirmationMethod,
    CustomerAccount,
    Disposition,
    OnlineRequest,
    Order,
    OrderStatus,
    RequestStatus,
    WorkLocation,
)
from intake.services import orders as order_services
from intake.services import portal as portal_services
from labqms import audit
from labqms.models import Role
from tests.intake.conftest import line


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def other_portal_user(make_user, other_hospital):
    user = make_user(Role.CUSTOMER, username="h2_portal", full_name="王芳")
    CustomerAccount.objects.create(user=user, customer=other_hospital, contact=other_hospital.contacts.first())
    return user


def _submit(actor, lines, **kwargs):
    values = {"contact_name": "刘洋", "contact_phone": "13800000001"}
    values.update(kwargs)
    return portal_services.submit_request(actor=actor, lines=lines, **values)


@pytest.mark.django_db
def test_submit_request_uses_the_users_own_organisation(portal_user, hospital, categories):
    """R-INT-1/R-INT-9: an online request belongs to the portal user's organisation."""
    request = _submit(
        portal_user,
        [line(categories["bp"], "B1"), line(categories["pump"], "P1, P2", quantity=2)],
        work_location=WorkLocation.ON_SITE,
        preferred_date=timezone.localdate() + dt.timedelta(days=5),
        notes="请上午来",
    )
    assert request.customer == hospital
    assert request.submitted_by == portal_user
    assert request.status == RequestStatus.SUBMITTED
    assert request.work_location == WorkLocation.ON_SITE
    items = list(request.items.order_by("line_no"))
    assert [(i.line_no, i.serial_number, i.quantity, i.service) for i in items] == [
        (1, "B1", 1, "verification"),
        (2, "P1, P2", 2, "calibration"),
    ]
    assert audit.events_for(request).filter(action="request.submitted").exists()


@pytest.mark.django_db
def test_request_may_list_out_of_scope_items(portal_user, categories):
    """R-INT-2: the scope is checked at the counter, not in the customer's request."""
    request = _submit(portal_user, [line(categories["ct"], "CT-1")])
    assert request.items.get().category == categories["ct"]


@pytest.mark.django_db
def test_user_without_customer_account_is_refused(customer, categories):
    """R-INT-9: a customer login not linked to an organisation cannot submit."""
    with pytest.raises(ValidationError, match="not linked"):
        _submit(customer, [line(categories["bp"], "B1")])
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_staff_cannot_submit_portal_requests(clerk, categories):
    """R-INT-9: the portal is for customers."""
    with pytest.raises(PermissionDenied):
        _submit(clerk, [line(categories["bp"], "B1")])


@pytest.mark.django_db
def test_request_checks_contact_date_and_lines(portal_user, categories):
    """R-INT-1/R-INT-3: who to call, a date not in the past, and valid lines."""
    with pytest.raises(ValidationError) as error:
        _submit(
            portal_user, [line(categories["bp"], "B1")], contact_name=" ", contact_phone="",
            preferred_date=timezone.localdate() - dt.timedelta(days=1), work_location="moon",
        )
    assert set(error.value.message_dict) == {"contact_name", "contact_phone", "preferred_date", "work_location"}
    with pytest.raises(ValidationError):
        _submit(portal_user, [])
    with pytest.raises(order_services.LinesInvalid) as error:
        _submit(portal_user, [line(categories["bp"], "X1"), line(categories["pump"], "x1")])
    assert [e.line for e in error.value.line_errors] == [2]
    assert not OnlineRequest.objects.exists()


@pytest.mark.django_db
def test_convert_request_makes_an_online_order_once(portal_user, clerk, hospital, categories):
    """R-INT-1: the order records the online channel; a request is converted once."""
    request = _submit(portal_user, [line(categories["bp"], "B1")], notes="请加急")
    order = portal_services.convert_request(actor=clerk, request=request, contact=hospital.contacts.first())
    assert order.channel == Channel.ONLINE
    assert order.customer == hospital and order.status == OrderStatus.DRAFT
    assert order.special_requirements == "请加急"
    assert list(order.items.values_list("serial_number", flat=True)) == ["B1"]
    request.refresh_from_db()
    assert (request.status, request.order, request.handled_by) == (RequestStatus.CONVERTED, order, clerk)

    with pytest.raises(ValidationError, match="already handled"):
        portal_services.convert_request(actor=clerk, request=request)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_out_of_scope_line_must_be_refused_or_subcontracted_at_conversion(portal_user, clerk, categories):
    """R-INT-2: an out-of-scope item in a request is not accepted silently: conversion is
    refused until the clerk refuses or subcontracts it with a reason."""
    request = _submit(portal_user, [line(categories["bp"], "B1"), line(categories["ct"], "CT-1")])
    with pytest.raises(order_services.LinesInvalid) as error:
        portal_services.convert_request(actor=clerk, request=request)
    assert [(e.line, "disposition" in e.errors) for e in error.value.line_errors] == [(2, True)]
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED and request.order is None
    assert not Order.objects.exists()

    corrected = [
        line(categories["bp"], "B1"),
        line(categories["ct"], "CT-1", disposition=Disposition.SUBCONTRACT, disposition_reason="无授权",
             subcontractor="省计量院"),
    ]
    order = portal_services.convert_request(actor=clerk, request=request, lines=corrected)
    ct_item = order.items.get(line_no=2)
    assert (ct_item.in_scope, ct_item.disposition, ct_item.subcontractor) == (False, Disposition.SUBCONTRACT, "省计量院")
    request.refresh_from_db()
    assert request.status == RequestStatus.CONVERTED


@pytest.mark.django_db
def test_only_counter_staff_convert_or_decline(portal_user, counter, categories):
    """R-INT-9: customers (and counter staff without the authorisation) cannot convert."""
    request = _submit(portal_user, [line(categories["bp"], "B1")])
    for actor in (portal_user, counter):
        with pytest.raises(PermissionDenied):
            portal_services.convert_request(actor=actor, request=request)
        with pytest.raises(PermissionDenied):
            portal_services.decline_request(actor=actor, request=request, reason="x")
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED


@pytest.mark.django_db
def test_declined_request_needs_a_reason_and_cannot_be_converted(portal_user, clerk, categories):
    request = _submit(portal_user, [line(categories["bp"], "B1")])
    with pytest.raises(ValidationError):
        portal_services.decline_request(actor=clerk, request=request, reason=" ")
    portal_services.decline_request(actor=clerk, request=request, reason="本所无此项目")
    request.refresh_from_db()
    assert (request.status, request.decline_reason, request.handled_by) == (RequestStatus.DECLINED, "本所无此项目", clerk)
    with pytest.raises(ValidationError):
        portal_services.convert_request(actor=clerk, request=request)
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_portal_confirmation_by_own_organisation(make_order, categories, portal_user):
    """R-INT-3: the customer may confirm a reviewed order in the portal; recorded as such."""
    order = make_order([line(categories["bp"], "B1")], stage="reviewed")
    order_services.record_confirmation(
        actor=portal_user, order=order, signer_name="刘洋", method=ConfirmationMethod.PORTAL
    )
    order.refresh_from_db()
    assert (order.confirmation_method, order.confirmation_recorded_by) == (ConfirmationMethod.PORTAL, portal_user)
    assert order.confirmed_by_name == "刘洋"


@pytest.mark.django_db
def test_portal_confirmation_by_another_organisation_is_refused(make_order, categories, other_portal_user):
    """R-INT-9: a portal user cannot confirm another organisation's order."""
    order = make_order([line(categories["bp"], "B1")], stage="reviewed")
    with pytest.raises(ValidationError, match="another organisation"):
        order_services.record_confirmation(
            actor=other_portal_user, order=order, signer_name="王芳", method=ConfirmationMethod.PORTAL
        )
    order.refresh_from_db()
    assert not order.is_confirmed


@pytest.mark.django_db
def test_portal_confirmation_is_for_customers_and_paper_for_staff(make_order, categories, portal_user, clerk, customer):
    """R-INT-9: staff record paper signatures; the portal method is the customer's own act;
    a customer login without an organisation cannot confirm anything."""
    order = make_order([line(categories["bp"], "B1")], stage="reviewed")
    with pytest.raises(PermissionDenied):
        order_services.record_confirmation(actor=clerk, order=order, signer_name="刘洋", method=ConfirmationMethod.PORTAL)
    with pytest.raises(PermissionDenied):
        order_services.record_confirmation(actor=portal_user, order=order, signer_name="刘洋")
    with pytest.raises(ValidationError):
        order_services.record_confirmation(actor=customer, order=order, signer_name="x", method=ConfirmationMethod.PORTAL)
    order.refresh_from_db()
    assert not order.is_confirmed
