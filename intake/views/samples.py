"""Sample pages: the list, one sample with its custody trail and status actions, receipt
inspection of an order's samples, labels, scan-to-open, the counter's queues and the
release (hand-over).  Views parse input and call ``intake.services.samples``; the
services enforce every rule (R-SMP-1..4, R-INT-6, R-INT-7).  Outsiders get 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from intake import selectors
from intake.forms import samples as forms
from intake.models import (
    CustodyEvent,
    Order,
    OrderStatus,
    Sample,
    SampleStatus,
    WorkLocation,
)
from intake.models.samples import SAMPLE_TRANSITIONS
from intake.qr import qr_svg
from intake.services import samples as services
from labqms import export, pdf, permissions
from labqms.forms import add_service_errors
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page, sort_links

# Custody event actions as the services write them → what the trail shows.
ACTION_LABELS = {
    "registered": gettext_lazy("registered"),
    "received": gettext_lazy("received (receipt inspection)"),
    "stored": gettext_lazy("stored"),
    "moved": gettext_lazy("moved"),
    "in_test": gettext_lazy("testing started"),
    "tested": gettext_lazy("testing finished"),
    "integrity_ok": gettext_lazy("integrity check: intact"),
    "integrity_failed": gettext_lazy("integrity check: damaged"),
    "held": gettext_lazy("put on hold"),
    "resumed": gettext_lazy("hold ended"),
    "returned": gettext_lazy("returned untested"),
    "released": gettext_lazy("released"),
}

# Where a sample may be moved to another location: it is in the lab's hands.
IN_LAB = frozenset(
    {SampleStatus.STORED, SampleStatus.IN_TEST, SampleStatus.TESTED, SampleStatus.READY, SampleStatus.ON_HOLD}
)


# --- list, scan ---------------------------------------------------------------------


@login_required
def sample_list(request):
    permissions.require_or_404(request.user, "intake.view")
    today = timezone.localdate()
    form = forms.SampleSearchForm(request.GET or None)
    samples = selectors.samples_for_list()
    sort = forms.DEFAULT_SORT
    if form.is_valid():
        data = form.cleaned_data
        samples = selectors.search_samples(samples, data["q"])
        if data["status"]:
            samples = samples.filter(status=data["status"])
        if data["location"]:
            samples = samples.filter(location=data["location"])
        if data["category"]:
            samples = samples.filter(item__category=data["category"])
        if data["overdue"]:
            samples = selectors.overdue_samples(samples, today)
        sort = data["sort"] or sort
    samples = samples.order_by(forms.SORTS[sort], "sample_id")
    if export.requested(request):
        return export.response(request, samples, _sample_columns(today), name="samples", title=_("Samples"))
    page = Paginator(samples, page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "intake/sample_list.html",
        {
            "form": form,
            "page": page,
            "today": today,
            "sort": sort,
            "sort_links": sort_links(request, ("id", "due", "changed"), sort),
            "querystring": querystring_without_page(request),
        },
    )


def _sample_columns(today) -> list[export.Column]:
    return [
        export.Column(_("Sample ID"), lambda s: s.sample_id, 18),
        export.Column(_("Order"), lambda s: s.order.number, 18),
        export.Column(_("Customer"), lambda s: s.order.customer.name, 28),
        export.Column(_("Instrument"), lambda s: s.item.instrument_name, 20),
        export.field(Sample, "item__category", width=16),
        export.Column(_("Serial number"), lambda s: s.serial_number, 16),
        export.Column(_("Status"), lambda s: s.get_status_display(), 12),
        export.Column(_("Location"), lambda s: str(s.location) if s.location else "", 14),
        export.Column(_("Due date"), lambda s: s.order.due_date, 12),
        export.Column(
            _("Overdue"), lambda s: bool(s.order.due_date and s.order.due_date < today and not s.is_done), 10
        ),
        export.Column(_("Last change"), lambda s: s.updated_at, 17),
    ]


@login_required
def sample_scan(request):
    """A scanned (or typed) code opens its sample, else its order, else the list."""
    permissions.require_or_404(request.user, "intake.view")
    code = request.GET.get("code", "").strip()
    if not code:
        return redirect("intake:sample_list")
    sample = Sample.objects.filter(sample_id__iexact=code).only("pk").first()
    if sample is not None:
        return redirect("intake:sample_detail", pk=sample.pk)
    order = Order.objects.filter(number__iexact=code).only("pk").first()
    if order is not None:
        return redirect("intake:order_detail", pk=order.pk)
    messages.warning(request, _("No sample with ID “%(code)s”; showing the search instead.") % {"code": code})
    return redirect(f"{reverse('intake:sample_list')}?{urlencode({'q': code})}")


# --- one sample and its actions -----------------------------------------------------


def _sample_or_404(request, pk) -> Sample:
    permissions.require_or_404(request.user, "intake.view")
    return get_object_or_404(
        Sample.objects.select_related(
            "order__customer", "order__contact", "item__category", "location", "release__released_by", "receipt__inspected_by"
        ),
        pk=pk,
    )


def _available_actions(sample: Sample) -> set[str]:
    """Which action forms the sample's status allows (permissions are asked in the page)."""
    status = sample.status
    allowed = SAMPLE_TRANSITIONS[status]
    actions = set()
    if status == SampleStatus.RECEIVED:
        actions.add("store")
    if status in IN_LAB:
        actions.add("move")
    if SampleStatus.ON_HOLD in allowed:
        actions.add("hold")
    if status == SampleStatus.ON_HOLD:
        actions.add("resume")
    if SampleStatus.RETURNED in allowed:
        actions.add("return")
    on_site = sample.order.work_location == WorkLocation.ON_SITE
    if status in (SampleStatus.RECEIVED, SampleStatus.STORED) or (
        status == SampleStatus.REGISTERED and on_site
    ):
        actions.add("in_test")
    if status == SampleStatus.IN_TEST:
        actions.add("tested")
    if status == SampleStatus.TESTED:
        actions.add("integrity")
    return actions


def _render_detail(request, sample: Sample, *, bound: dict | None = None):
    """The sample page; ``bound`` replaces one action form with the posted one so that
    its errors show next to what was typed."""
    action_forms = {
        "store": forms.LocationForm(prefix="store"),  # also "move"
        "hold": forms.ReasonForm(prefix="hold"),
        "resume": forms.ResumeForm(prefix="resume"),
        "return": forms.ReasonForm(prefix="return"),
        "in_test": forms.NoteForm(prefix="in_test"),
        "tested": forms.NoteForm(prefix="tested"),
        "integrity": forms.IntegrityForm(prefix="integrity"),
    }
    action_forms.update(bound or {})
    custody = list(
        CustodyEvent.objects.filter(sample=sample).select_related("actor").order_by("at", "id")
    )
    for event in custody:
        event.action_label = ACTION_LABELS.get(event.action, event.action)
    # A reverse one-to-one raises (an AttributeError) when there is no inspection yet.
    receipt = getattr(sample, "receipt", None)
    context = {
        "sample": sample,
        "order": sample.order,
        "item": sample.item,
        "receipt": receipt,
        "integrity_checks": sample.integrity_checks.select_related("checked_by"),
        "custody": custody,
        "actions": _available_actions(sample),
        "forms": action_forms,
        "open_action": next(iter(bound), None) if bound else None,
    }
    return render(request, "intake/sample_detail.html", context)


@login_required
def sample_detail(request, pk):
    sample = _sample_or_404(request, pk)
    return _render_detail(request, sample)


def _run_action(request, pk, key: str, form_class, call, done: str):
    """Shared POST handling of the status actions: parse, call the service, and on a
    refusal show the page again with the form as typed and the service's message."""
    sample = _sample_or_404(request, pk)
    form = form_class(request.POST, prefix=key)
    if form.is_valid():
        try:
            call(sample, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not do this."))
            return redirect("intake:sample_detail", pk=sample.pk)
        else:
            messages.success(request, done % {"id": sample.sample_id})
            return redirect("intake:sample_detail", pk=sample.pk)
    sample.refresh_from_db()
    offered = _available_actions(sample)
    if key not in offered and not (key == "store" and "move" in offered):
        # The status does not offer this action (any more), so its form is not on the
        # page: say why in a message instead.
        messages.error(request, " ".join(_form_messages(form)))
        return redirect("intake:sample_detail", pk=sample.pk)
    messages.error(request, _("Nothing was changed; see the form below."))
    return _render_detail(request, sample, bound={key: form})


def _form_messages(form) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


@login_required
@require_POST
def sample_store(request, pk):
    return _run_action(
        request,
        pk,
        "store",
        forms.LocationForm,
        lambda sample, data: services.store_sample(
            actor=request.user, sample=sample, location=data["location"], note=data["note"]
        ),
        _("Sample %(id)s: storage location recorded."),
    )


@login_required
@require_POST
def sample_hold(request, pk):
    return _run_action(
        request,
        pk,
        "hold",
        forms.ReasonForm,
        lambda sample, data: services.hold_sample(actor=request.user, sample=sample, reason=data["reason"]),
        _("Sample %(id)s is on hold."),
    )


@login_required
@require_POST
def sample_resume(request, pk):
    return _run_action(
        request,
        pk,
        "resume",
        forms.ResumeForm,
        lambda sample, data: services.resume_sample(actor=request.user, sample=sample, note=data["note"]),
        _("Sample %(id)s is no longer on hold."),
    )


@login_required
@require_POST
def sample_return(request, pk):
    return _run_action(
        request,
        pk,
        "return",
        forms.ReasonForm,
        lambda sample, data: services.return_untested(actor=request.user, sample=sample, reason=data["reason"]),
        _("Sample %(id)s is returned untested."),
    )


@login_required
@require_POST
def sample_in_test(request, pk):
    return _run_action(
        request,
        pk,
        "in_test",
        forms.NoteForm,
        lambda sample, data: services.mark_sample_in_test(actor=request.user, sample=sample, note=data["note"]),
        _("Sample %(id)s is in test."),
    )


@login_required
@require_POST
def sample_tested(request, pk):
    return _run_action(
        request,
        pk,
        "tested",
        forms.NoteForm,
        lambda sample, data: services.mark_sample_tested(actor=request.user, sample=sample, note=data["note"]),
        _("Sample %(id)s is tested."),
    )


@login_required
@require_POST
def sample_integrity(request, pk):
    return _run_action(
        request,
        pk,
        "integrity",
        forms.IntegrityForm,
        lambda sample, data: services.check_integrity(
            actor=request.user,
            sample=sample,
            intact=data["intact"],
            notes=data["notes"],
            location=data["location"],
        ),
        _("Integrity check of sample %(id)s recorded."),
    )


# --- receipt inspection -------------------------------------------------------------


@login_required
def order_receive(request, pk):
    """Receipt inspection of every still-registered sample of an order on one page
    (R-SMP-1).  All included rows are received in one transaction: one bad row and
    nothing is received, so the clerk fixes it and sends the page again."""
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    order = get_object_or_404(Order.objects.select_related("customer", "contact"), pk=pk)
    samples = list(
        order.samples.filter(status=SampleStatus.REGISTERED).select_related("item__category").order_by("sample_id")
    )
    receivable = order.status in (OrderStatus.ACCEPTED, OrderStatus.COMPLETED) and (
        order.work_location != WorkLocation.ON_SITE
    )
    data = request.POST if request.method == "POST" else None
    header = forms.ReceiveOrderForm(data)
    rows = [
        (
            sample,
            forms.ReceiptRowForm(
                data, prefix=f"s{sample.pk}", initial=forms.ReceiptRowForm.initial_for(sample), sample=sample
            ),
        )
        for sample in samples
    ]
    errors_by_sample: list[tuple[str, list[str]]] = []
    if data is not None and receivable:
        valid = header.is_valid() & all([form.is_valid() for _sample, form in rows])
        chosen = [(s, f) for s, f in rows if f.is_valid() and f.cleaned_data["include"]]
        if valid and not chosen:
            header.add_error(None, _("Tick at least one sample to receive."))
        elif valid:
            try:
                received = _receive_all(request, header, chosen, errors_by_sample)
            except PermissionDenied as error:
                messages.error(request, str(error) or _("You may not do this."))
                return redirect("intake:order_detail", pk=order.pk)
            if received is not None:
                labels = reverse("intake:order_labels", kwargs={"pk": order.pk})
                subset = ",".join(str(s.pk) for s in received)
                messages.success(
                    request,
                    format_html(
                        '{} <a class="alert-link" href="{}?{}" data-testid="print-labels">'
                        '<i class="bi bi-printer"></i> {}</a>',
                        ngettext("%(n)d sample received.", "%(n)d samples received.", len(received))
                        % {"n": len(received)},
                        labels,
                        urlencode({"samples": subset}),
                        _("Print the labels"),
                    ),
                )
                return redirect("intake:order_detail", pk=order.pk)
    return render(
        request,
        "intake/order_receive.html",
        {
            "order": order,
            "header": header,
            "rows": rows,
            "receivable": receivable,
            "errors_by_sample": errors_by_sample,
        },
    )


def _receive_all(request, header, chosen, errors_by_sample) -> list[Sample] | None:
    """Receive every chosen sample or none.  Every row is tried, so that all bad rows are
    reported at once; any error rolls the whole batch back.  None when refused."""
    # Read the batch fields once: header.add_error() below drops them from cleaned_data.
    confirmed_by = header.cleaned_data["customer_confirmed_by"]
    location = header.cleaned_data["location"]
    received = []
    with transaction.atomic():
        for sample, form in chosen:
            row = form.cleaned_data
            try:
                received.append(
                    services.receive_sample(
                        actor=request.user,
                        sample=sample,
                        packaging_ok=row["packaging_ok"],
                        appearance_ok=row["appearance_ok"],
                        markings_ok=row["markings_ok"],
                        accessories_ok=row["accessories_ok"],
                        accessories_received=row["accessories_received"],
                        anomalies=row["anomalies"],
                        customer_confirmed_by=confirmed_by,
                        location=location,
                    )
                )
            except ValidationError as error:
                errors_by_sample.append((sample.sample_id, error.messages))
                add_service_errors(form, error)
                # The customer's name is asked once for the batch, so its error shows there.
                missing_name = getattr(error, "error_dict", {}).get("customer_confirmed_by")
                if missing_name and not header.has_error("customer_confirmed_by"):
                    header.add_error("customer_confirmed_by", missing_name)
        if errors_by_sample:
            transaction.set_rollback(True)
            return None
    return received


# --- labels -------------------------------------------------------------------------


def _labels_response(request, samples: list[Sample], filename: str) -> HttpResponse:
    """A label PDF, one 50 × 30 mm label per sample (R-SMP-2)."""
    labels = [{"sample": s, "qr": qr_svg(s.sample_id, scale=3)} for s in samples]
    return pdf.pdf_response("pdf/intake/labels.html", {"labels": labels}, request=request, filename=filename)


def _label_samples():
    return Sample.objects.select_related("order__customer", "item__category")


@login_required
def order_labels(request, pk):
    """All labels of an order, or ``?samples=`` a comma-separated subset (ids or sample IDs)."""
    permissions.require_or_404(request.user, "intake.view")
    order = get_object_or_404(Order, pk=pk)
    samples = _label_samples().filter(order=order)
    wanted = [w.strip() for w in request.GET.get("samples", "").split(",") if w.strip()]
    if wanted:
        pks = [int(w) for w in wanted if w.isdigit()]
        ids = [w.upper() for w in wanted if not w.isdigit()]
        samples = samples.filter(pk__in=pks) | samples.filter(sample_id__in=ids)
    samples = list(samples.order_by("sample_id"))
    if not samples:
        raise Http404
    return _labels_response(request, samples, f"labels-{order.number}.pdf")


@login_required
def sample_label(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    sample = get_object_or_404(_label_samples(), pk=pk)
    return _labels_response(request, [sample], f"label-{sample.sample_id}.pdf")


# --- the counter's queues -----------------------------------------------------------


@login_required
def ready_queue(request):
    """Orders with samples ready for release, for the counter to call and hand over."""
    permissions.require_or_404(request.user, "intake.view")
    orders = selectors.ready_for_release()
    if export.requested(request):
        return export.response(
            request, orders, _ready_columns(), name="ready-for-release", title=_("Ready for release"),
            prepare=_prepare_ready,
        )
    page = Paginator(orders, page_size(request)).get_page(request.GET.get("page"))
    _prepare_ready(page)
    return render(
        request,
        "intake/queue_ready.html",
        {"page": page, "querystring": querystring_without_page(request)},
    )


def _prepare_ready(orders) -> None:
    """What a ready-queue row shows beyond the order: fees, certificates, the notice."""
    selectors.attach_settlement(orders)
    _attach_ready_certificates(orders)
    for order in orders:
        order.completion_notice = order.completion_notices[0] if order.completion_notices else None


def _ready_columns() -> list[export.Column]:
    def phone(order):
        return (order.contact.phone if order.contact else "") or order.customer.phone

    return [
        export.Column(_("Order"), lambda o: o.number, 18),
        export.Column(_("Customer"), lambda o: o.customer.name, 28),
        export.Column(_("Contact"), lambda o: o.contact.name if o.contact else "", 12),
        export.Column(_("Contact phone"), phone, 14),
        export.Column(_("Ready"), lambda o: o.n_ready, 8),
        export.Column(_("Total"), lambda o: o.n_total, 8),
        export.Column(_("Certificates"), lambda o: o.n_certificates, 10),
        export.Column(_("Awaiting certificate"), lambda o: o.n_awaiting, 10),
        export.Column(_("Fee"), lambda o: o.fee, 10),
        export.Column(_("Paid"), lambda o: o.paid, 10),
        export.Column(_("Settled"), lambda o: o.settled, 10),
        export.Column(
            _("Completion notice"),
            lambda o: o.completion_notice.get_status_display() if o.completion_notice else "",
            14,
        ),
        export.Column(_("Due date"), lambda o: o.due_date, 12),
    ]


def _attach_ready_certificates(orders) -> None:
    """Set ``n_certificates`` (numbers held by the ready samples) and ``n_awaiting``
    (ready samples whose certificate is due but not issued) on a page of orders, with
    one query for the whole page (R-INT-6, R-INT-7)."""
    orders = list(orders)
    for order in orders:
        order.n_certificates = order.n_awaiting = 0
    if not orders:
        return
    by_pk = {order.pk: order for order in orders}
    ready = Sample.objects.filter(order__in=list(by_pk), status=SampleStatus.READY).only(
        "id", "order_id", "status", "expects_certificate", "certificate_numbers"
    )
    for sample in ready:
        order = by_pk[sample.order_id]
        order.n_certificates += len(sample.certificate_numbers)
        order.n_awaiting += sample.awaits_certificate


@login_required
def at_risk_queue(request):
    """Accepted orders due within two working days (or overdue) and not complete."""
    permissions.require_or_404(request.user, "intake.view")
    today = timezone.localdate()
    orders = selectors.at_risk(today)
    if export.requested(request):
        return export.response(
            request, orders, _at_risk_columns(), name="orders-at-risk", title=_("Orders at risk"),
            prepare=lambda chunk: selectors.attach_working_days_left(chunk, today),
        )
    page = Paginator(orders, page_size(request)).get_page(request.GET.get("page"))
    selectors.attach_working_days_left(page, today)
    return render(
        request,
        "intake/queue_at_risk.html",
        {
            "page": page,
            "today": today,
            "days": selectors.AT_RISK_WORKING_DAYS,
            "querystring": querystring_without_page(request),
        },
    )


def _at_risk_columns() -> list[export.Column]:
    return [
        export.Column(_("Due date"), lambda o: o.due_date, 12),
        export.field(Order, "due_date_provisional", width=10),
        export.Column(_("Working days left"), lambda o: o.working_days_left, 10),
        export.Column(_("Overdue"), lambda o: o.overdue, 10),
        export.Column(_("Order"), lambda o: o.number, 18),
        export.Column(_("Customer"), lambda o: o.customer.name, 28),
        export.Column(_("Contact"), lambda o: o.contact.name if o.contact else "", 12),
        export.Column(_("Contact phone"), lambda o: (o.contact.phone if o.contact else "") or o.customer.phone, 14),
        export.Column(_("Done"), lambda o: o.n_done, 8),
        export.Column(_("Total"), lambda o: o.n_total, 8),
    ]


# --- release ------------------------------------------------------------------------


@login_required
def order_release(request, pk):
    """Hand-over of ready samples against settled fees or approved credit (R-INT-7)."""
    permissions.require_or_404(request.user, "intake.view")
    permissions.require_or_404(request.user, "intake.receive_order")
    order = get_object_or_404(
        Order.objects.select_related("customer", "contact", "credit_approved_by").prefetch_related(
            "items", "payments__recorded_by"
        ),
        pk=pk,
    )
    selectors.attach_settlement([order])
    ready = list(
        order.samples.filter(status=SampleStatus.READY).select_related("item__category").order_by("sample_id")
    )
    # Grouped by hand-over in the page, each with the certificates it recorded (R-INT-7).
    released = list(
        order.samples.filter(status=SampleStatus.RELEASED)
        .select_related("release")
        .order_by("release__released_at", "release_id", "sample_id")
    )
    if request.method == "POST":
        form = forms.ReleaseForm(request.POST, order=order)
        if form.is_valid():
            data = form.cleaned_data
            try:
                release = services.release_samples(
                    actor=request.user,
                    order=order,
                    samples=list(data["samples"]),
                    receiver_name=data["receiver_name"],
                    receiver_id_document=data["receiver_id_document"],
                    handed_over=data["handed_over"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                messages.error(request, str(error) or _("You may not do this."))
                return redirect("intake:order_detail", pk=order.pk)
            else:
                n = len(data["samples"])
                messages.success(
                    request,
                    ngettext(
                        "%(n)d sample released to %(name)s.", "%(n)d samples released to %(name)s.", n
                    )
                    % {"n": n, "name": release.receiver_name},
                )
                return redirect("intake:order_detail", pk=order.pk)
        chosen = set(request.POST.getlist("samples"))
    else:
        form = forms.ReleaseForm(
            order=order,
            initial={"handed_over": _("instruments + certificates")},
        )
        chosen = {str(s.pk) for s in ready}
    return render(
        request,
        "intake/order_release.html",
        {
            "order": order,
            "form": form,
            "ready": ready,
            "released": released,
            "chosen": chosen,
            # Ready samples whose certificate is due but not issued: the instrument may go
            # back without it, so the counter is warned (R-INT-6, R-INT-7).
            "n_awaiting": sum(1 for s in ready if s.awaits_certificate),
        },
    )


urlpatterns = [
    path("samples/", sample_list, name="sample_list"),
    path("samples/<int:pk>/", sample_detail, name="sample_detail"),
    path("samples/scan/", sample_scan, name="sample_scan"),
    path("orders/<int:pk>/receive/", order_receive, name="order_receive"),
    path("samples/<int:pk>/store/", sample_store, name="sample_store"),
    path("samples/<int:pk>/hold/", sample_hold, name="sample_hold"),
    path("samples/<int:pk>/resume/", sample_resume, name="sample_resume"),
    path("samples/<int:pk>/return/", sample_return, name="sample_return"),
    path("samples/<int:pk>/in-test/", sample_in_test, name="sample_in_test"),
    path("samples/<int:pk>/tested/", sample_tested, name="sample_tested"),
    path("samples/<int:pk>/integrity/", sample_integrity, name="sample_integrity"),
    path("orders/<int:pk>/labels.pdf", order_labels, name="order_labels"),
    path("samples/<int:pk>/label.pdf", sample_label, name="sample_label"),
    path("queues/ready/", ready_queue, name="ready_queue"),
    path("queues/at-risk/", at_risk_queue, name="at_risk_queue"),
    path("orders/<int:pk>/release/", order_release, name="order_release"),
]
