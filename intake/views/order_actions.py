"""One order on one page, and every action on it: contract review (R-INT-4), re-open,
the customer's confirmation (R-INT-3), acceptance with the due date (R-INT-5),
cancellation, the printable order, delay/deviation notices (R-INT-8), payments and
credit (R-INT-7), and the order side of on-site visits (R-ONS-1, R-ONS-4).

Views only parse and call ``intake.services``.  A POST that fails re-renders the page it
came from with the bound form, so nothing typed is lost.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake.forms import order_actions as order_forms
from intake.models import (
    ConfirmationMethod,
    ContractReview,
    CustomerNotice,
    NoticeStatus,
    OnSiteVisit,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    Release,
    Sample,
    SampleStatus,
    WorkLocation,
)
from intake.qr import qr_svg
from intake.services import orders as order_services
from intake.services import visits as visit_services
from labqms import audit, pdf, permissions
from labqms.forms import add_service_errors

UNDER_WAY = (OrderStatus.REVIEWED, OrderStatus.ACCEPTED, OrderStatus.COMPLETED)
CLOSED = (OrderStatus.RELEASED, OrderStatus.CANCELLED, OrderStatus.DECLINED)


def _order_or_404(request, pk) -> Order:
    permissions.require_or_404(request.user, "intake.view")
    return get_object_or_404(Order.objects.select_related("customer", "contact"), pk=pk)


def _detail_url(order: Order, section: str = "") -> str:
    url = reverse("intake:order_detail", args=[order.pk])
    return f"{url}#{section}" if section else url


def _refused(request, order: Order, error: PermissionDenied):
    messages.error(request, str(error) or _("You may not do this."))
    return redirect(_detail_url(order))


def full_order(pk) -> Order:
    """The order with everything the detail page and the PDF show, in a fixed number of
    queries whatever the number of lines, samples or events."""
    queryset = Order.objects.select_related(
        "customer",
        "contact",
        "created_by",
        "confirmation_recorded_by",
        "accepted_by",
        "credit_approved_by",
    ).prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.select_related("category").order_by("line_no")),
        Prefetch(
            "reviews",
            queryset=ContractReview.objects.select_related("reviewer").order_by("-reviewed_at", "-id"),
        ),
        Prefetch(
            "samples",
            queryset=Sample.objects.select_related("item", "location").order_by("sample_id"),
        ),
        Prefetch("visits", queryset=OnSiteVisit.objects.select_related("created_by")),
        Prefetch("notices", queryset=CustomerNotice.objects.select_related("created_by")),
        Prefetch("payments", queryset=Payment.objects.select_related("recorded_by")),
        Prefetch(
            "releases",
            queryset=Release.objects.select_related("released_by").prefetch_related(
                Prefetch("samples", queryset=Sample.objects.order_by("sample_id"))
            ),
        ),
    )
    return get_object_or_404(queryset, pk=pk)


def _summary(order: Order) -> dict:
    """Lines, the current review, fees and payment state from the prefetched order."""
    items = list(order.items.all())
    reviews = list(order.reviews.all())
    current = next((r for r in reviews if r.superseded_at is None), None)
    payments = list(order.payments.all())
    fee_total = sum((i.line_fee for i in items), Decimal("0"))
    paid_total = sum((p.amount for p in payments), Decimal("0"))
    return {
        "items": items,
        "review": current,
        "superseded_reviews": [r for r in reviews if r is not current],
        "payments": payments,
        "fee_total": fee_total,
        "paid_total": paid_total,
        "settled": order.credit_approved_at is not None or paid_total >= fee_total,
    }


def _render_detail(request, pk, *, bound: dict | None = None, open_section: str = "", status=200):
    """The detail page; ``bound`` replaces the empty forms by the ones the user filled in:
    keys "reopen", "cancel", "payment", "credit", "visit", or ("confirm"|"handover", visit pk)."""
    order = full_order(pk)
    bound = bound or {}
    samples = list(order.samples.all())
    visits = list(order.visits.all())
    for visit in visits:
        visit.confirm_form = bound.get(("confirm", visit.pk)) or order_forms.SiteConfirmationForm(
            auto_id=f"id_visit{visit.pk}_%s"
        )
        visit.handover_form = bound.get(("handover", visit.pk)) or order_forms.HandoverForm(
            auto_id=f"id_handover{visit.pk}_%s"
        )
    status_value = order.status
    # Every sample is done but the order is not complete: it waits for certificates
    # (R-INT-6), counted from the samples already loaded.
    waiting_certificates = 0
    if status_value == OrderStatus.ACCEPTED and samples and all(s.is_done for s in samples):
        waiting_certificates = sum(1 for s in samples if s.awaits_certificate)
    context = {
        "order": order,
        **_summary(order),
        "samples": samples,
        "visits": visits,
        "notices": list(order.notices.all()),
        "releases": list(order.releases.all()),
        "events": audit.events_for(order).select_related("target_type"),
        "is_draft": status_value == OrderStatus.DRAFT,
        "is_reviewed": status_value == OrderStatus.REVIEWED,
        "under_way": status_value in UNDER_WAY,
        "is_closed": status_value in CLOSED,
        "accepted": status_value in (OrderStatus.ACCEPTED, OrderStatus.COMPLETED, OrderStatus.RELEASED),
        "receiving": status_value in (OrderStatus.ACCEPTED, OrderStatus.COMPLETED)
        and any(s.status == SampleStatus.REGISTERED for s in samples),
        "has_ready": any(s.status == SampleStatus.READY for s in samples),
        "waiting_certificates": waiting_certificates,
        "on_site": order.work_location == WorkLocation.ON_SITE,
        "reopen_form": bound.get("reopen") or order_forms.ReasonForm(auto_id="id_reopen_%s"),
        "cancel_form": bound.get("cancel") or order_forms.ReasonForm(auto_id="id_cancel_%s"),
        "credit_form": bound.get("credit") or order_forms.ReasonForm(auto_id="id_credit_%s"),
        "payment_form": bound.get("payment") or order_forms.PaymentForm(auto_id="id_payment_%s"),
        "visit_form": bound.get("visit")
        or order_forms.VisitForm(
            auto_id="id_visit_%s",
            initial={"site_address": order.customer.address, "site_contact": getattr(order.contact, "name", "")},
        ),
        "open_section": open_section,
    }
    return render(request, "intake/order_detail.html", context, status=status)


def _run_on_detail(request, order: Order, form, call, *, key, section: str, done):
    """POST from a form on the detail page: valid → service → message and back to the
    page; otherwise the page again with the form bound and its section open."""
    if form.is_valid():
        try:
            result = call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return _refused(request, order, error)
        else:
            messages.success(request, done(result) if callable(done) else done)
            return redirect(_detail_url(order, section))
    return _render_detail(request, order.pk, bound={key: form}, open_section=section)


@login_required
def order_detail(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    return _render_detail(request, pk)


@login_required
def order_review(request, pk):
    """The contract review form (R-INT-4)."""
    order = _order_or_404(request, pk)
    if not permissions.can(request.user, "intake.review_order"):
        messages.error(request, _("You may not review orders."))
        return redirect(_detail_url(order))
    if request.method != "POST" and order.status != OrderStatus.DRAFT:
        messages.info(request, _("This order was already reviewed; re-open it to review it again."))
        return redirect(_detail_url(order, "review"))
    items = list(order.items.select_related("category").order_by("line_no"))
    form = order_forms.ContractReviewForm(request.POST or None, items=items)
    if request.method == "POST" and form.is_valid():
        try:
            review = order_services.review_order(
                actor=request.user, order=order, **form.service_arguments()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return _refused(request, order, error)
        else:
            messages.success(
                request,
                _("Contract review recorded: %(decision)s.") % {"decision": review.get_decision_display()},
            )
            return redirect(_detail_url(order, "review"))
    return render(
        request,
        "intake/order_review.html",
        {"order": order, "form": form, "fee_total": form.total()},
    )


@login_required
@require_POST
def order_reopen(request, pk):
    order = _order_or_404(request, pk)
    return _run_on_detail(
        request,
        order,
        order_forms.ReasonForm(request.POST, auto_id="id_reopen_%s"),
        lambda data: order_services.reopen_order(actor=request.user, order=order, reason=data["reason"]),
        key="reopen",
        section="actions",
        done=_("Order re-opened: the review is superseded and the confirmation cleared."),
    )


@login_required
@require_POST
def order_cancel(request, pk):
    order = _order_or_404(request, pk)
    return _run_on_detail(
        request,
        order,
        order_forms.ReasonForm(request.POST, auto_id="id_cancel_%s"),
        lambda data: order_services.cancel_order(actor=request.user, order=order, reason=data["reason"]),
        key="cancel",
        section="actions",
        done=_("Order cancelled."),
    )


@login_required
def order_confirm(request, pk):
    """The customer's signature on the printed order, recorded at the counter (R-INT-3)."""
    order = _order_or_404(request, pk)
    if not permissions.can(request.user, "intake.receive_order"):
        messages.error(request, _("You may not record confirmations."))
        return redirect(_detail_url(order))
    initial = {"signer_name": getattr(order.contact, "name", ""), "confirmed_at": order_forms.now_local()}
    form = order_forms.ConfirmationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order_services.record_confirmation(
                actor=request.user,
                order=order,
                signer_name=form.cleaned_data["signer_name"],
                confirmed_at=form.cleaned_data["confirmed_at"],
                method=ConfirmationMethod.PAPER,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return _refused(request, order, error)
        else:
            messages.success(request, _("Customer confirmation recorded."))
            return redirect(_detail_url(order, "confirmation"))
    return render(
        request,
        "intake/order_confirm.html",
        {"order": order, "form": form, "method_label": ConfirmationMethod.PAPER.label},
    )


@login_required
@require_POST
def order_accept(request, pk):
    """Accept: the due date is set and the samples are registered (R-INT-5, R-SMP-2)."""
    order = _order_or_404(request, pk)
    try:
        order = order_services.accept_order(actor=request.user, order=order)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        return _refused(request, order, error)
    else:
        due = formats.date_format(order.due_date, "Y-m-d")
        if order.due_date_provisional:
            text = _(
                "Order %(number)s accepted. Due date %(due)s (provisional: the working-day "
                "calendar does not cover it yet); %(count)s samples registered."
            )
        else:
            text = _("Order %(number)s accepted. Due date %(due)s; %(count)s samples registered.")
        messages.success(request, text % {"number": order.number, "due": due, "count": order.samples.count()})
    return redirect(_detail_url(order))


def order_document_context(order: Order) -> dict:
    """What the printed order shows; ``order`` comes from :func:`full_order`."""
    expected = None
    if order.due_date is None and order.status in (OrderStatus.DRAFT, OrderStatus.REVIEWED):
        # What the customer signs for: the due date if the order is accepted today.
        expected = order_services.due_date_for(order, timezone.localdate())
    return {
        "order": order,
        "expected_due": expected,
        **_summary(order),
        "lab_name": pdf.lab_name(),
        "qr": mark_safe(qr_svg(order.number, scale=3)),  # segno output: markup we generated
        "today": timezone.localdate(),
    }


@login_required
def order_pdf(request, pk):
    """The printable order (委托单) with the terms and signature lines (R-INT-3)."""
    permissions.require_or_404(request.user, "intake.view")
    order = full_order(pk)
    return pdf.pdf_response(
        "pdf/intake/order.html", order_document_context(order), request=request, filename=f"{order.number}.pdf"
    )


@login_required
def order_notice(request, pk):
    """A delay or deviation told to the customer (R-INT-8)."""
    order = _order_or_404(request, pk)
    if not permissions.can(request.user, "intake.receive_order"):
        messages.error(request, _("You may not send notices."))
        return redirect(_detail_url(order))
    form = order_forms.NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            notice = order_services.send_notice(
                actor=request.user, order=order, **form.service_arguments()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return _refused(request, order, error)
        else:
            if notice.status == NoticeStatus.RECORDED:
                messages.success(request, _("Notice recorded."))
            else:
                messages.success(
                    request, _("Notice queued for e-mail to %(to)s.") % {"to": notice.recipient}
                )
            return redirect(_detail_url(order, "notices"))
    return render(
        request,
        "intake/order_notice.html",
        {"order": order, "form": form, "recipient": order_services.notice_recipient(order)},
    )


@login_required
@require_POST
def order_payment(request, pk):
    order = _order_or_404(request, pk)
    return _run_on_detail(
        request,
        order,
        order_forms.PaymentForm(request.POST, auto_id="id_payment_%s"),
        lambda data: order_services.record_payment(actor=request.user, order=order, **data),
        key="payment",
        section="fees",
        done=lambda payment: _("Payment of %(amount)s recorded (receipt %(receipt)s).")
        % {"amount": payment.amount, "receipt": payment.receipt_no},
    )


@login_required
@require_POST
def order_credit(request, pk):
    """The lab head lets the order be released before it is paid (R-INT-7)."""
    order = _order_or_404(request, pk)
    return _run_on_detail(
        request,
        order,
        order_forms.ReasonForm(request.POST, auto_id="id_credit_%s"),
        lambda data: order_services.approve_credit(actor=request.user, order=order, reason=data["reason"]),
        key="credit",
        section="fees",
        done=_("Credit approved."),
    )


@login_required
@require_POST
def visit_add(request, pk):
    order = _order_or_404(request, pk)
    return _run_on_detail(
        request,
        order,
        order_forms.VisitForm(request.POST, auto_id="id_visit_%s"),
        lambda data: visit_services.plan_visit(actor=request.user, order=order, **data),
        key="visit",
        section="visits",
        done=_("On-site visit planned."),
    )


def _visit_or_404(request, pk) -> OnSiteVisit:
    permissions.require_or_404(request.user, "intake.view")
    return get_object_or_404(OnSiteVisit.objects.select_related("order"), pk=pk)


@login_required
@require_POST
def visit_confirm(request, pk):
    """R-ONS-1: the site meets the method's environmental needs, confirmed with the customer."""
    visit = _visit_or_404(request, pk)
    return _run_on_detail(
        request,
        visit.order,
        order_forms.SiteConfirmationForm(request.POST, auto_id=f"id_visit{visit.pk}_%s"),
        lambda data: visit_services.confirm_site(actor=request.user, visit=visit, **data),
        key=("confirm", visit.pk),
        section=f"visit-{visit.pk}",
        done=_("Site conditions confirmed."),
    )


@login_required
@require_POST
def visit_handover(request, pk):
    """R-ONS-4: the instruments restored (if changed) and handed over after the visit."""
    visit = _visit_or_404(request, pk)
    return _run_on_detail(
        request,
        visit.order,
        order_forms.HandoverForm(request.POST, auto_id=f"id_handover{visit.pk}_%s"),
        lambda data: visit_services.record_handover(actor=request.user, visit=visit, **data),
        key=("handover", visit.pk),
        section=f"visit-{visit.pk}",
        done=_("Hand-over recorded."),
    )


urlpatterns = [
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/review/", order_review, name="order_review"),
    path("orders/<int:pk>/reopen/", order_reopen, name="order_reopen"),
    path("orders/<int:pk>/confirm/", order_confirm, name="order_confirm"),
    path("orders/<int:pk>/accept/", order_accept, name="order_accept"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order_cancel"),
    path("orders/<int:pk>/order.pdf", order_pdf, name="order_pdf"),
    path("orders/<int:pk>/notice/", order_notice, name="order_notice"),
    path("orders/<int:pk>/payment/", order_payment, name="order_payment"),
    path("orders/<int:pk>/credit/", order_credit, name="order_credit"),
    path("orders/<int:pk>/visits/add/", visit_add, name="visit_add"),
    path("visits/<int:pk>/confirm/", visit_confirm, name="visit_confirm"),
    path("visits/<int:pk>/handover/", visit_handover, name="visit_handover"),
]
