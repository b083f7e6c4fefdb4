"""Sample status changes.  Every change goes through :func:`_move`, which checks the
transitions table and writes a custody event (who, when, from → to, where, note; R-SMP-3).

``mark_sample_in_test`` and ``mark_sample_tested`` are the calls [Records] makes; intake
never imports the later apps.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.models import (
    CustodyEvent,
    IntegrityCheck,
    Order,
    OrderStatus,
    ReceiptInspection,
    Release,
    Sample,
    SampleStatus,
    StorageLocation,
    WorkLocation,
)
from intake.models.samples import SAMPLE_TRANSITIONS
from intake.services.orders import complete_if_done
from labqms import audit, permissions


def _locked(sample: Sample) -> Sample:
    return Sample.objects.select_for_update(of=("self",)).select_related("order", "location", "item").get(pk=sample.pk)


def _move(
    sample: Sample,
    target: str,
    *,
    actor,
    action: str,
    note: str = "",
    location=None,
    same_status: bool = False,
    resuming: bool = False,
) -> CustodyEvent:
    current = sample.status
    if target == current:
        # Only a move to another location keeps the status (store_sample).
        allowed = same_status
    elif current == SampleStatus.ON_HOLD and target != SampleStatus.RETURNED:
        # Off hold only through resume_sample (with its reason), never as a side effect.
        allowed = resuming and target in SAMPLE_TRANSITIONS[current]
    else:
        allowed = target in SAMPLE_TRANSITIONS[current]
    if not allowed:
        raise ValidationError(
            _("Sample %(id)s is “%(from)s” and cannot become “%(to)s”.")
            % {"id": sample.sample_id, "from": sample.get_status_display(), "to": SampleStatus(target).label}
        )
    if target == SampleStatus.ON_HOLD:
        sample.held_from = current
    elif current == SampleStatus.ON_HOLD:
        sample.held_from = ""
    if location is not None:
        sample.location = location
    sample.status = target
    sample.save()
    return CustodyEvent.objects.create(
        sample=sample,
        actor=actor,
        action=action,
        from_status=current,
        to_status=target,
        location=str(sample.location) if sample.location else "",
        note=note,
    )


def register_created(order: Order, actor) -> None:
    """First custody event of each sample the acceptance created (called by accept_order)."""
    CustodyEvent.objects.bulk_create(
        [
            CustodyEvent(
                sample=s,
                actor=actor,
                action="registered",
                from_status="",
                to_status=SampleStatus.REGISTERED,
                at=timezone.now(),
            )
            for s in order.samples.all()
        ]
    )


def _require_accepted(sample: Sample) -> None:
    if sample.order.status not in (OrderStatus.ACCEPTED, OrderStatus.COMPLETED):
        raise ValidationError(
            _("Order %(number)s is not accepted; no work starts before the contract review.")
            % {"number": sample.order.number}
        )


def receive_sample(
    *,
    actor,
    sample: Sample,
    packaging_ok: bool = True,
    appearance_ok: bool = True,
    markings_ok: bool = True,
    accessories_ok: bool = True,
    accessories_received: str = "",
    anomalies: str = "",
    customer_confirmed_by: str = "",
    location: StorageLocation | None = None,
) -> Sample:
    """Receipt inspection (R-SMP-1).  Anomalies must be described and confirmed by the
    customer on the spot.  With a location the sample is stored at once (R-SMP-3)."""
    granted = permissions.require(actor, "intake.receive_order")
    if location is not None and not location.is_active:
        raise ValidationError({"location": _("Choose a storage location in use.")})
    all_ok = packaging_ok and appearance_ok and markings_ok and accessories_ok
    if not all_ok and not anomalies.strip():
        raise ValidationError({"anomalies": _("Describe what is wrong.")})
    if (anomalies.strip() or not all_ok) and not customer_confirmed_by.strip():
        raise ValidationError(
            {"customer_confirmed_by": _("Anomalies must be confirmed by the customer on the spot: enter their name.")}
        )
    with transaction.atomic():
        sample = _locked(sample)
        _require_accepted(sample)
        if sample.order.work_location == WorkLocation.ON_SITE:
            raise ValidationError(_("On-site samples are not received at the counter."))
        if sample.status != SampleStatus.REGISTERED:
            raise ValidationError(
                _("Sample %(id)s was already received.") % {"id": sample.sample_id}
            )
        ReceiptInspection.objects.create(
            sample=sample,
            packaging_ok=packaging_ok,
            appearance_ok=appearance_ok,
            markings_ok=markings_ok,
            accessories_ok=accessories_ok,
            accessories_received=accessories_received,
            anomalies=anomalies.strip(),
            customer_confirmed_by=customer_confirmed_by.strip(),
            inspected_by=actor,
        )
        _move(sample, SampleStatus.RECEIVED, actor=actor, action="received", note=anomalies.strip())
        if location is not None:
            _move(sample, SampleStatus.STORED, actor=actor, action="stored", location=location)
        audit.record(
            actor=actor, action="sample.received", target=sample, as_deputy_of=granted.as_deputy_of
        )
    return sample


def store_sample(*, actor, sample: Sample, location: StorageLocation, note: str = "") -> Sample:
    """Put a received sample away, or move a sample to another location (R-SMP-3)."""
    permissions.require(actor, "intake.handle_samples")
    if location is None or not location.is_active:
        raise ValidationError({"location": _("Choose a storage location in use.")})
    with transaction.atomic():
        sample = _locked(sample)
        if sample.status == SampleStatus.RECEIVED:
            _move(sample, SampleStatus.STORED, actor=actor, action="stored", location=location, note=note)
        elif sample.status in (SampleStatus.RELEASED, SampleStatus.RETURNED):
            raise ValidationError(_("Sample %(id)s has left the lab.") % {"id": sample.sample_id})
        elif sample.status == SampleStatus.REGISTERED:
            raise ValidationError(_("Receive sample %(id)s first.") % {"id": sample.sample_id})
        else:
            if sample.location_id == location.pk:
                raise ValidationError({"location": _("The sample is already there.")})
            _move(
                sample, sample.status, actor=actor, action="moved", location=location, note=note, same_status=True
            )
    return sample


def mark_sample_in_test(*, actor, sample: Sample, note: str = "", expects_certificate: bool = False) -> Sample:
    """Work starts (called when [Records] starts a task).  A lab sample must have been
    received; an on-site sample goes from registered straight to in test.  Only technical
    staff start and finish work; the counter cannot make a sample "tested".
    ``expects_certificate``: the order is complete only once this sample's certificate is
    issued (see :func:`record_certificate_issued`)."""
    permissions.require(actor, "intake.technical_work", sample)
    with transaction.atomic():
        sample = _locked(sample)
        _require_accepted(sample)
        if sample.status == SampleStatus.REGISTERED and sample.order.work_location != WorkLocation.ON_SITE:
            raise ValidationError(_("Sample %(id)s has not been received yet.") % {"id": sample.sample_id})
        _move(sample, SampleStatus.IN_TEST, actor=actor, action="in_test", note=note)
        if expects_certificate and not sample.expects_certificate:
            sample.expects_certificate = True
            sample.save(update_fields=["expects_certificate", "updated_at"])
    return sample


def record_certificate_issued(*, actor, sample: Sample, number: str, replaces: str = "") -> Sample:
    """[Certificates] tells intake a certificate (or supplement) for the sample was issued;
    a replacement's number takes the place of the one it voids.  When it was the last
    certificate the order waited for, the order completes and the customer is told
    (R-INT-6)."""
    permissions.require(actor, "intake.technical_work", sample)
    with transaction.atomic():
        sample = _locked(sample)
        numbers = [n for n in sample.certificate_numbers if n != replaces]
        if number not in numbers:
            numbers.append(number)
        sample.certificate_numbers = numbers
        sample.expects_certificate = True
        sample.save(update_fields=["certificate_numbers", "expects_certificate", "updated_at"])
        complete_if_done(sample.order, actor)
    return sample


def mark_sample_tested(*, actor, sample: Sample, note: str = "") -> Sample:
    """Work on the sample is finished (called by [Records] when the record is checked)."""
    permissions.require(actor, "intake.technical_work", sample)
    with transaction.atomic():
        sample = _locked(sample)
        _move(sample, SampleStatus.TESTED, actor=actor, action="tested", note=note)
    return sample


def check_integrity(
    *, actor, sample: Sample, intact: bool, notes: str = "", location: StorageLocation | None = None
) -> Sample:
    """After testing, check the sample is intact before it is stored for release
    (R-SMP-4).  Intact → ready for release; damaged → on hold with the notes."""
    granted = permissions.require(actor, "intake.handle_samples")
    if not intact and not notes.strip():
        raise ValidationError({"notes": _("Describe the damage.")})
    if location is not None and not location.is_active:
        raise ValidationError({"location": _("Choose a storage location in use.")})
    with transaction.atomic():
        sample = _locked(sample)
        if sample.status != SampleStatus.TESTED:
            raise ValidationError(
                _("Sample %(id)s is “%(status)s”; the integrity check follows testing.")
                % {"id": sample.sample_id, "status": sample.get_status_display()}
            )
        IntegrityCheck.objects.create(sample=sample, intact=intact, notes=notes.strip(), checked_by=actor)
        if intact:
            _move(sample, SampleStatus.READY, actor=actor, action="integrity_ok", location=location, note=notes)
        else:
            _move(sample, SampleStatus.ON_HOLD, actor=actor, action="integrity_failed", location=location, note=notes)
        audit.record(
            actor=actor,
            action="sample.integrity_checked",
            target=sample,
            changes={"intact": [None, intact]},
            reason=notes,
            as_deputy_of=granted.as_deputy_of,
        )
        complete_if_done(sample.order, actor)
    return sample


def hold_sample(*, actor, sample: Sample, reason: str) -> Sample:
    permissions.require(actor, "intake.handle_samples")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the sample is put on hold.")})
    with transaction.atomic():
        sample = _locked(sample)
        _move(sample, SampleStatus.ON_HOLD, actor=actor, action="held", note=reason)
    return sample


def resume_sample(*, actor, sample: Sample, note: str) -> Sample:
    """Take a sample off hold, back to the status it was held from."""
    permissions.require(actor, "intake.handle_samples")
    if not note.strip():
        raise ValidationError({"note": _("Say why the hold ends.")})
    with transaction.atomic():
        sample = _locked(sample)
        if sample.status != SampleStatus.ON_HOLD:
            raise ValidationError(_("Sample %(id)s is not on hold.") % {"id": sample.sample_id})
        _move(
            sample, sample.held_from or SampleStatus.RECEIVED, actor=actor, action="resumed", note=note, resuming=True
        )
        complete_if_done(sample.order, actor)
    return sample


def return_untested(*, actor, sample: Sample, reason: str) -> Sample:
    """Give a sample back without testing it (e.g. cannot be tested, customer withdrew)."""
    granted = permissions.require(actor, "intake.receive_order")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the sample goes back untested.")})
    with transaction.atomic():
        sample = _locked(sample)
        _move(sample, SampleStatus.RETURNED, actor=actor, action="returned", note=reason)
        audit.record(
            actor=actor, action="sample.returned", target=sample, reason=reason, as_deputy_of=granted.as_deputy_of
        )
        complete_if_done(sample.order, actor)
    return sample


def release_samples(
    *,
    actor,
    order: Order,
    samples: list[Sample],
    receiver_name: str,
    receiver_id_document: str,
    handed_over: str,
) -> Release:
    """Hand samples back with their certificates (R-INT-7).  Needs the fees settled or
    credit approved; a sample is released once only."""
    granted = permissions.require(actor, "intake.receive_order")
    errors = {}
    if not receiver_name.strip():
        errors["receiver_name"] = _("Enter the name of the person collecting.")
    if not receiver_id_document.strip():
        errors["receiver_id_document"] = _("Enter the ID document shown.")
    if not handed_over.strip():
        errors["handed_over"] = _("Record what was handed over.")
    if not samples:
        errors["samples"] = _("Choose the samples handed over.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order.is_settled:
            raise ValidationError(
                _("The fees of order %(number)s are not settled (%(paid)s of %(total)s paid) and no credit is approved.")
                % {"number": order.number, "paid": order.paid_total(), "total": order.fee_total()}
            )
        locked = [_locked(s) for s in samples]
        for sample in locked:
            if sample.order_id != order.pk:
                raise ValidationError(_("Sample %(id)s belongs to another order.") % {"id": sample.sample_id})
            if sample.status == SampleStatus.RELEASED:
                raise ValidationError(
                    _("Sample %(id)s was already released on %(date)s to %(name)s.")
                    % {
                        "id": sample.sample_id,
                        "date": timezone.localtime(sample.release.released_at).strftime("%Y-%m-%d %H:%M"),
                        "name": sample.release.receiver_name,
                    }
                )
            if sample.status != SampleStatus.READY:
                raise ValidationError(
                    _("Sample %(id)s is “%(status)s”, not ready for release.")
                    % {"id": sample.sample_id, "status": sample.get_status_display()}
                )
        release = Release.objects.create(
            order=order,
            certificate_numbers=[number for sample in locked for number in sample.certificate_numbers],
            receiver_name=receiver_name.strip(),
            receiver_id_document=receiver_id_document.strip(),
            handed_over=handed_over.strip(),
            released_by=actor,
        )
        for sample in locked:
            sample.release = release
            sample.location = None  # it has left the lab; the custody trail keeps where it was
            _move(
                sample,
                SampleStatus.RELEASED,
                actor=actor,
                action="released",
                note=_("to %(name)s") % {"name": release.receiver_name},
            )
        audit.record(
            actor=actor,
            action="order.released",
            target=order,
            changes={"samples": [None, [s.sample_id for s in locked]], "receiver": [None, release.receiver_name]},
            as_deputy_of=granted.as_deputy_of,
        )
        remaining = order.samples.exclude(status__in=[SampleStatus.RELEASED, SampleStatus.RETURNED]).exists()
        if not remaining and order.status == OrderStatus.COMPLETED:
            from intake.services.orders import mark_released

            mark_released(order, actor)
    return release
