"""Customers and contacts.  A near-duplicate organisation name is flagged before a
second one is created; the clerk then confirms or picks the existing one."""

from __future__ import annotations

import difflib
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from intake.models import Contact, Customer
from labqms import audit, permissions

CUSTOMER_FIELDS = ("name", "short_name", "credit_code", "address", "department", "phone", "email", "note")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_NOISE = re.compile(r"[\s()（）·.,，、\-]|有限公司|有限责任公司|股份|集团")


def normalise(name: str) -> str:
    return _NOISE.sub("", name or "").lower()


def near_duplicates(name: str, *, exclude_pk=None, limit: int = 5) -> list[Customer]:
    """Existing customers whose name is the same or nearly so (ratio ≥ 0.85, or one
    contains the other after dropping spaces, brackets and company suffixes)."""
    wanted = normalise(name)
    if not wanted:
        return []
    candidates = Customer.objects.all()
    if exclude_pk:
        candidates = candidates.exclude(pk=exclude_pk)
    # Pre-filter in the database on a few three-character pieces of the name (start,
    # middle, end), so "南京市第一人民医院" still finds "市第一人民医院" and the query stays
    # one indexed-enough scan on big tables; the similarity is then judged in Python.
    pieces = {wanted[i : i + 3] for i in {0, max(0, len(wanted) // 2 - 1), max(0, len(wanted) - 3)}}
    prefilter = Q()
    for piece in pieces:
        prefilter |= Q(name__icontains=piece)
    matches = []
    for customer in candidates.filter(prefilter).only("pk", "name", "department")[:500]:
        other = normalise(customer.name)
        ratio = difflib.SequenceMatcher(None, wanted, other).ratio()
        if ratio >= 0.85 or (len(other) >= 4 and (other in wanted or wanted in other)):
            matches.append(customer)
        if len(matches) >= limit:
            break
    return matches


def _check(data: dict) -> dict:
    data = {k: (data.get(k) or "").strip() for k in CUSTOMER_FIELDS}
    errors = {}
    if not data["name"]:
        errors["name"] = _("Enter the organisation name.")
    if data["credit_code"]:
        data["credit_code"] = data["credit_code"].upper()
        if not CREDIT_CODE.match(data["credit_code"]):
            errors["credit_code"] = _("A unified social credit code has 18 characters (digits and capital letters).")
    if errors:
        raise ValidationError(errors)
    return data


def create_customer(*, actor, data: dict, allow_similar: bool = False) -> Customer:
    granted = permissions.require(actor, "intake.receive_order")
    data = _check(data)
    if data["credit_code"] and Customer.objects.filter(
        credit_code=data["credit_code"], department=data["department"]
    ).exists():
        raise ValidationError({"credit_code": _("A customer with this credit code and department already exists.")})
    if not allow_similar:
        similar = near_duplicates(data["name"])
        if similar:
            raise ValidationError(
                _("Similar customers already exist: %(names)s. Use one of them, or confirm that this is a different organisation.")
                % {"names": "; ".join(str(c) for c in similar)},
                code="near_duplicate",
            )
    with transaction.atomic():
        customer = Customer.objects.create(created_by=actor, **data)
        audit.record(
            actor=actor,
            action="customer.created",
            target=customer,
            changes=audit.diff({}, audit.snapshot(customer, CUSTOMER_FIELDS)),
            as_deputy_of=granted.as_deputy_of,
        )
    return customer


def update_customer(*, actor, customer: Customer, data: dict) -> Customer:
    granted = permissions.require(actor, "intake.receive_order")
    data = _check(data)
    if (
        data["credit_code"]
        and Customer.objects.filter(credit_code=data["credit_code"], department=data["department"])
        .exclude(pk=customer.pk)
        .exists()
    ):
        raise ValidationError({"credit_code": _("A customer with this credit code and department already exists.")})
    with transaction.atomic():
        before = audit.snapshot(customer, CUSTOMER_FIELDS)
        for key, value in data.items():
            setattr(customer, key, value)
        customer.save()
        changes = audit.diff(before, audit.snapshot(customer, CUSTOMER_FIELDS))
        if changes:
            audit.record(
                actor=actor, action="customer.updated", target=customer, changes=changes,
                as_deputy_of=granted.as_deputy_of,
            )
    return customer


def add_contact(*, actor, customer: Customer, name: str, phone: str = "", email: str = "") -> Contact:
    granted = permissions.require(actor, "intake.receive_order")
    if not name.strip():
        raise ValidationError({"name": _("Enter the contact's name.")})
    if not phone.strip() and not email.strip():
        raise ValidationError({"phone": _("Enter a phone number or an e-mail address.")})
    with transaction.atomic():
        contact = Contact.objects.create(
            customer=customer, name=name.strip(), phone=phone.strip(), email=email.strip()
        )
        audit.record(
            actor=actor, action="customer.contact_added", target=customer,
            changes={"contact": [None, str(contact)]}, as_deputy_of=granted.as_deputy_of,
        )
    return contact
