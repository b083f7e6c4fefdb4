"""The certificate pages for staff (R-CRT-1..7, the approval stage of R-REC-5): the
approval queue (oldest first, with due dates) and batch approval with one password, the
batch's progress, the list of all certificates, one certificate with its approval, seal
uses, whole amendment chain and audit trail, the download of the issued PDF, and the
request for a certificate from a checked record.

Views parse and call ``certificates.services.certificates``; the services decide who may
prepare, check (an amendment), approve or amend, and refuse with a message when not.
Every staff member (``certificates.view``) reads issued and void certificates and
downloads their PDFs — the counter hands them over; drafts, the approval queue and the
record behind a certificate stay with ``records.view`` (R-REC-4), so counter staff get
404 on a draft and see neither the record link nor the audit trail.  Customers get 404
(they receive their certificates in the portal).  Issued PDFs are media files served
only from here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from certificates.forms import certificates as forms
from certificates.models import AmendmentKind, Certificate, CertificateStatus, Record
from certificates.services import certificates as services
from intake.selectors import few_or_subquery, sample_match
from labqms import audit, export, permissions
from labqms.forms import add_service_errors
from labqms.models import Activity, Authorisation
from labqms.pagination import Paginator
from labqms.views.helpers import page_size, querystring_without_page

AUDIT_ROWS = 50
BATCH_SESSION_KEY = "certificates:last_batch"
ISSUED_STATES = (CertificateStatus.ISSUED, CertificateStatus.VOID)
PENDING_STATES = (CertificateStatus.DRAFT, CertificateStatus.ISSUING)


def _certificates():
    """Certificates with everything a row or the page shows joined (one query)."""
    return Certificate.objects.select_related(
        "record__sample__order__customer", "record__sample__item__category", "record__method", "amends",
        "approved_by", "approved_as_deputy_of", "created_by", "checked_by",
    )


def _certificate_or_404(request, pk) -> Certificate:
    """For the actions on a certificate (approve, check, amend): records.view."""
    permissions.require_or_404(request.user, "records.view")
    return get_object_or_404(_certificates(), pk=pk)


def _visible(user, certificates):
    """What ``user`` may read: everything with records.view, otherwise (counter staff)
    only issued and void certificates — a draft is still part of the record."""
    if permissions.can(user, "records.view"):
        return certificates
    return certificates.filter(status__in=ISSUED_STATES)


def _readable_certificate_or_404(request, pk) -> Certificate:
    """For reading a certificate: every staff member, drafts only with records.view."""
    permissions.require_or_404(request.user, "certificates.view")
    return get_object_or_404(_visible(request.user, _certificates()), pk=pk)


def _detail_url(certificate: Certificate, section: str = "") -> str:
    url = reverse("certificates:certificate_detail", args=[certificate.pk])
    return f"{url}#{section}" if section else url


def _search(certificates, q: str):
    q = (q or "").strip()
    if not q:
        return certificates
    # One indexed search per column, united (see intake.selectors.sample_match).
    ids = Certificate.objects.order_by().values_list("pk", flat=True)
    return certificates.filter(pk__in=few_or_subquery(ids.filter(number__icontains=q).union(
        ids.filter(record__number__icontains=q), ids.filter(sample_match(q, "record__sample__"))
    )))


def _errors_text(form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def signs_some_certificates(user) -> bool:
    """Whether the queue offers ``user`` the approval controls: a general authorisation to
    sign (own or a deputy's), or one for some categories.  Page-level and of constant
    cost; the service still decides per certificate (``certificates.sign``)."""
    if permissions.can(user, "certificates.sign"):
        return True
    if not permissions.can(user, "certificates.prepare"):  # the same roles as signing
        return False
    return (
        Authorisation.objects.valid_on(timezone.localdate())
        .filter(person=user, activity=Activity.SIGN_CERTIFICATES)
        .exists()
    )


# --- the approval queue and batch approval ---------------------------------------------


def _queue_drafts(request):
    form = forms.QueueFilterForm(request.GET)
    data = form.filters()
    drafts = _search(_certificates().filter(status=CertificateStatus.DRAFT), data.get("q"))
    if data.get("type"):
        drafts = drafts.filter(type=data["type"])
    return form, drafts.order_by("created_at", "id")


def _queue_context(request, batch_form=None) -> dict:
    form, drafts = _queue_drafts(request)
    page = Paginator(drafts, page_size(request)).get_page(request.GET.get("page"))
    batch_form = batch_form or forms.BatchApproveForm()
    ticked = set(batch_form.cleaned_data.get("certificate", [])) if batch_form.is_bound and hasattr(batch_form, "cleaned_data") else set()
    return {
        "form": form,
        "page": page,
        "today": timezone.localdate(),
        "querystring": querystring_without_page(request),
        "full_querystring": request.GET.urlencode(),
        "can_sign": signs_some_certificates(request.user),
        "batch_form": batch_form,
        "ticked": ticked,
    }


@login_required
@require_GET
def certificate_queue(request):
    """The technical lead's "awaiting approval" list: drafts, oldest first, with due dates."""
    permissions.require_or_404(request.user, "records.view")
    if export.requested(request):
        _form, drafts = _queue_drafts(request)
        return export.response(
            request, drafts, _certificate_columns(queue=True), name="certificates-awaiting-approval",
            title=_("Certificates awaiting approval"),
        )
    return render(request, "certificates/certificate_queue.html", _queue_context(request))


def _certificate_columns(queue: bool = False) -> list[export.Column]:
    """A certificate row's columns; the queue shows who prepared it and when instead of
    the issue (a draft has none) and the due date of the order."""

    def instrument(certificate, key, fallback):
        return (certificate.record.instrument or {}).get(key) or fallback

    def amendment(certificate):
        if not certificate.amends_id:
            return ""
        return f"{certificate.get_amendment_kind_display()} {certificate.amends.number or ''}".strip()

    columns = [
        export.Column(_("Certificate type"), lambda c: c.get_type_display(), 18),
        export.Column(_("Sample"), lambda c: c.record.sample.sample_id, 18),
        export.Column(_("Instrument"), lambda c: instrument(c, "name", c.record.sample.item.instrument_name), 20),
        export.Column(_("Model"), lambda c: instrument(c, "model", ""), 12),
        export.Column(
            _("Serial number"), lambda c: instrument(c, "serial_number", c.record.sample.serial_number), 14
        ),
        export.Column(_("Customer"), lambda c: c.record.sample.order.customer.name, 28),
        export.Column(_("Order"), lambda c: c.record.sample.order.number, 18),
        export.Column(_("Record number"), lambda c: c.record.number, 18),
        export.Column(_("Amendment"), amendment, 18),
    ]
    if queue:
        return [
            export.Column(_("Prepared"), lambda c: c.created_at, 17),
            export.field(Certificate, "created_by", width=12),
            export.Column(_("Due date"), lambda c: c.record.sample.order.due_date, 12),
            *columns,
            export.Column(_("awaits check (核验)"), lambda c: c.awaits_check, 10),
        ]
    return [
        export.Column(_("Certificate number"), lambda c: c.number or "", 20),
        columns[0],
        export.Column(_("Status"), lambda c: c.get_status_display(), 10),
        *columns[1:],
        export.Column(_("Date of issue"), lambda c: c.issued_at, 17),
        export.Column(_("Valid until"), lambda c: c.valid_until, 12),
        export.field(Certificate, "approved_by", width=12),
    ]


def _refusal_of(user, certificates) -> str:
    """Which ticked certificates ``user`` may not sign, and why (to explain the refusal)."""
    parts = []
    for certificate in certificates:
        decision = permissions.check(user, "certificates.sign", certificate)
        if not decision:
            parts.append(
                _("%(certificate)s (record %(record)s): %(reason)s")
                % {"certificate": certificate, "record": certificate.record.number, "reason": decision.reason}
            )
    return " ".join(parts)


@login_required
@require_POST
def certificate_batch_approve(request):
    """One password for the ticked drafts: each is approved and logged on its own and
    issued by the worker after commit; any refusal refuses the whole batch."""
    permissions.require_or_404(request.user, "records.view")
    form = forms.BatchApproveForm(request.POST)
    if form.is_valid():
        ids = form.cleaned_data["certificate"]
        by_id = _certificates().in_bulk(ids)
        try:
            if len(by_id) != len(ids):
                raise ValidationError(_("A ticked certificate no longer exists; reload the page."))
            approved = services.approve_batch(
                actor=request.user, certificates=[by_id[pk] for pk in ids], password=form.cleaned_data["password"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, _refusal_of(request.user, by_id.values()) or str(error) or _("You may not approve these certificates."))
        else:
            request.session[BATCH_SESSION_KEY] = approved
            messages.success(
                request,
                ngettext(
                    "%(n)d certificate approved; it is being issued.",
                    "%(n)d certificates approved; they are being issued.",
                    len(approved),
                ) % {"n": len(approved)},
            )
            return redirect("certificates:certificate_batch")
    if not signs_some_certificates(request.user):
        messages.error(request, _("Nothing was approved.") + " " + _errors_text(form))
        return redirect("certificates:certificate_queue")
    messages.error(request, _("Nothing was approved; see the form below."))
    return render(request, "certificates/certificate_queue.html", _queue_context(request, form))


def _batch(request) -> list[Certificate]:
    ids = [pk for pk in request.session.get(BATCH_SESSION_KEY, []) if isinstance(pk, int)]
    return list(
        Certificate.objects.filter(pk__in=ids).select_related("record__sample").order_by("created_at", "id")
    ) if ids else []


def _issued_count(certificates) -> int:
    return sum(1 for c in certificates if c.status in ISSUED_STATES)


@login_required
@require_GET
def certificate_batch(request):
    """The last batch approved in this session, with a progress bar (issued / total)."""
    permissions.require_or_404(request.user, "records.view")
    certificates = _batch(request)
    return render(request, "certificates/certificate_batch.html", {
        "certificates": certificates,
        "total": len(certificates),
        "issued": _issued_count(certificates),
    })


@login_required
@require_GET
def certificate_batch_status(request):
    """JSON for batch_progress.js: ``{total, issued, items: [{id, number, status}]}``."""
    permissions.require_or_404(request.user, "records.view")
    certificates = _batch(request)
    return JsonResponse({
        "total": len(certificates),
        "issued": _issued_count(certificates),
        "items": [
            {
                "id": c.pk,
                "number": c.number or "",
                "status": c.status,
                "status_label": str(c.get_status_display()),
                "url": reverse("certificates:certificate_detail", args=[c.pk]),
            }
            for c in certificates
        ],
    })


# --- the list ----------------------------------------------------------------------------


def certificates_for_list(data: dict, certificates=None):
    certificates = _search(_certificates() if certificates is None else certificates, data.get("q"))
    if data.get("type"):
        certificates = certificates.filter(type=data["type"])
    if data.get("status"):
        certificates = certificates.filter(status=data["status"])
    if data.get("issued_from"):
        certificates = certificates.filter(issued_at__date__gte=data["issued_from"])
    if data.get("issued_to"):
        certificates = certificates.filter(issued_at__date__lte=data["issued_to"])
    return certificates.order_by(*forms.SORTS.get(data.get("sort") or forms.DEFAULT_SORT, forms.SORTS[forms.DEFAULT_SORT]))


@login_required
@require_GET
def certificate_list(request):
    """All certificates; counter staff (no records.view) see the issued and void ones."""
    permissions.require_or_404(request.user, "certificates.view")
    reads_records = permissions.can(request.user, "records.view")
    form = forms.CertificateFilterForm(request.GET, issued_only=not reads_records)
    visible = _certificates() if reads_records else _certificates().filter(status__in=ISSUED_STATES)
    certificates = certificates_for_list(form.filters(), visible)
    if export.requested(request):
        return export.response(
            request, certificates, _certificate_columns(), name="certificates", title=_("Certificates")
        )
    page = Paginator(certificates, page_size(request)).get_page(request.GET.get("page"))
    return render(request, "certificates/certificate_list.html", {
        "form": form,
        "page": page,
        "querystring": querystring_without_page(request),
        "reads_records": reads_records,
    })


# --- one certificate ---------------------------------------------------------------------


@dataclass
class ChainRow:
    certificate: Certificate
    depth: int
    current: bool

    @property
    def indent_class(self) -> str:
        return f"ps-{min(self.depth * 3, 5)}" if self.depth else ""


def amendment_chain(certificate: Certificate) -> list[ChainRow]:
    """The whole chain of the certificate's record: the original, then each amendment
    under the certificate it amends (supplements and the replacement, and theirs)."""
    family = list(
        Certificate.objects.filter(record_id=certificate.record_id).select_related("amends").order_by("created_at", "id")
    )
    children = defaultdict(list)
    for member in family:
        children[member.amends_id].append(member)
    rows: list[ChainRow] = []

    def walk(parent_id, depth):
        for member in children[parent_id]:
            rows.append(ChainRow(member, depth, member.pk == certificate.pk))
            walk(member.pk, depth + 1)

    walk(None, 0)
    return rows


@dataclass
class AmendmentOffers:
    """Which amendment forms the page offers ``user`` (the service still decides)."""

    supplement: bool
    replace: bool
    replacement: Certificate | None
    pending: Certificate | None

    @classmethod
    def of(cls, user, certificate: Certificate, amendments: list[Certificate]) -> AmendmentOffers:
        replacement = next((a for a in amendments if a.amendment_kind == AmendmentKind.REPLACEMENT), None)
        pending = next((a for a in amendments if a.status in PENDING_STATES), None)
        may = certificate.status == CertificateStatus.ISSUED and permissions.can(user, "certificates.prepare", certificate)
        return cls(
            supplement=may and pending is None,
            replace=may and pending is None and replacement is None,
            replacement=replacement,
            pending=pending,
        )


@dataclass
class CheckOffer:
    """Whether the page offers ``user`` the check (核验) of an amendment awaiting it:
    someone authorised to check records of the category who did not prepare it."""

    decision: object | None
    is_preparer: bool

    @classmethod
    def of(cls, user, certificate: Certificate) -> CheckOffer:
        if not certificate.awaits_check:
            return cls(None, False)
        return cls(permissions.check(user, "records.check", certificate), certificate.created_by_id == user.pk)

    @property
    def shown(self) -> bool:
        return bool(self.decision) and not self.is_preparer


def _detail_context(request, certificate: Certificate, bound: dict | None = None) -> dict:
    user = request.user
    reads_records = permissions.can(user, "records.view")
    chain = amendment_chain(certificate)
    if not reads_records:
        # Drafts (pending amendments) are not shown to counter staff; a draft never has
        # amendments of its own, so the remaining rows still form the chain.
        chain = [row for row in chain if row.certificate.status in ISSUED_STATES]
    amendments = [row.certificate for row in chain if row.certificate.amends_id == certificate.pk]
    offers = AmendmentOffers.of(user, certificate, amendments)
    check_offer = CheckOffer.of(user, certificate)
    sign_decision = (
        permissions.check(user, "certificates.sign", certificate)
        if certificate.status == CertificateStatus.DRAFT and not certificate.awaits_check
        else None
    )
    detail_forms = {
        "check": forms.SignatureForm(prefix="check"),
        "approve": forms.SignatureForm(prefix="approve"),
        AmendmentKind.SUPPLEMENT: forms.AmendmentForm(kind=AmendmentKind.SUPPLEMENT),
        AmendmentKind.REPLACEMENT: forms.AmendmentForm(kind=AmendmentKind.REPLACEMENT),
    }
    detail_forms.update(bound or {})
    return {
        "c": certificate,
        "record": certificate.record,
        "instrument": certificate.record.instrument,
        "customer": certificate.record.sample.order.customer,
        "order": certificate.record.sample.order,
        "chain": chain,
        # Issued supplements only: a draft one is shown as pending, not as supplementing.
        "supplements": [
            a for a in amendments if a.amendment_kind == AmendmentKind.SUPPLEMENT and a.status in ISSUED_STATES
        ],
        "replacement": offers.replacement,
        "pending_amendment": offers.pending,
        "reads_records": reads_records,
        "seal_uses": list(certificate.seal_uses.select_related("seal", "used_by")) if reads_records else [],
        "events": (
            list(audit.events_for(certificate).select_related("target_type").order_by("-at", "-id")[:AUDIT_ROWS])
            if reads_records else []
        ),
        "audit_rows": AUDIT_ROWS,
        "awaits_check": certificate.awaits_check,
        "check_decision": check_offer.decision,
        "check_by_preparer": check_offer.is_preparer,
        "show_check": check_offer.shown,
        "check_form": detail_forms["check"],
        "sign_decision": sign_decision,
        "show_approve": bool(sign_decision),
        "show_supplement": offers.supplement,
        "show_replace": offers.replace,
        "approve_form": detail_forms["approve"],
        "supplement_form": detail_forms[AmendmentKind.SUPPLEMENT],
        "replace_form": detail_forms[AmendmentKind.REPLACEMENT],
        "downloadable": certificate.status in ISSUED_STATES and bool(certificate.pdf),
        "today": timezone.localdate(),
    }


def _render_detail(request, certificate: Certificate, *, bound: dict | None = None):
    return render(request, "certificates/certificate_detail.html", _detail_context(request, certificate, bound))


@login_required
@require_GET
def certificate_detail(request, pk):
    return _render_detail(request, _readable_certificate_or_404(request, pk))


def _refused(request, certificate: Certificate, form, *, shown: bool, key: str):
    """A refused action: the errors on the form when the page shows it (input kept),
    otherwise as a message on the certificate page."""
    if not shown:
        messages.error(request, _errors_text(form) or _("Nothing was changed."))
        return redirect(_detail_url(certificate))
    messages.error(request, _("Nothing was changed; see the form below."))
    return _render_detail(request, certificate, bound={key: form})


@login_required
@require_POST
def certificate_approve(request, pk):
    """The signatory approves (批准) one draft with the password; it is issued at once."""
    certificate = _certificate_or_404(request, pk)
    form = forms.SignatureForm(request.POST, prefix="approve")
    if form.is_valid():
        try:
            issued = services.approve(actor=request.user, certificate=certificate, password=form.cleaned_data["password"])
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not approve this certificate."))
        else:
            if issued.status == CertificateStatus.ISSUING:
                # The approval stands; rendering failed and issue_pending retries it.
                messages.warning(
                    request,
                    _(
                        "The certificate is approved, but its PDF could not be rendered now; it will be issued "
                        "automatically within 10 minutes."
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Certificate %(number)s approved and issued; its PDF is stored with its SHA-256.") % {"number": issued.number},
                )
            return redirect(_detail_url(issued))
    # The page offers no approval while an amendment awaits its check: the refusal is a message.
    shown = (
        certificate.status == CertificateStatus.DRAFT
        and not certificate.awaits_check
        and permissions.can(request.user, "certificates.sign", certificate)
    )
    return _refused(request, certificate, form, shown=shown, key="approve")


@login_required
@require_POST
def certificate_check(request, pk):
    """R-CRT-6: a second person checks (核验) an amendment with the password before it
    can be approved."""
    certificate = _certificate_or_404(request, pk)
    form = forms.SignatureForm(request.POST, prefix="check")
    shown = CheckOffer.of(request.user, certificate).shown  # as the page stood before acting
    if form.is_valid():
        try:
            checked = services.check_amendment(actor=request.user, certificate=certificate, password=form.cleaned_data["password"])
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not check this amendment."))
        else:
            messages.success(request, _("Amendment checked (核验); it now awaits approval."))
            return redirect(_detail_url(checked))
    return _refused(request, certificate, form, shown=shown, key="check")


def _amend(request, pk, kind: str):
    original = _certificate_or_404(request, pk)
    form = forms.AmendmentForm(request.POST, kind=kind)
    # Whether the page offers this form (as it stood before acting, for the refusal path).
    offers = AmendmentOffers.of(request.user, original, list(original.amendments.all()))
    shown = offers.supplement if kind == AmendmentKind.SUPPLEMENT else offers.replace
    if form.is_valid():
        try:
            amendment = services.prepare_amendment(actor=request.user, original=original, kind=kind, text=form.cleaned_data["text"])
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not amend this certificate."))
        else:
            done = (
                _("Supplement to %(number)s prepared; it is approved like any certificate.")
                if kind == AmendmentKind.SUPPLEMENT
                else _("Replacement of %(number)s prepared; %(number)s becomes void when the replacement is issued.")
            )
            messages.success(request, done % {"number": original.number})
            return redirect(_detail_url(amendment))
    return _refused(request, original, form, shown=shown, key=kind)


@login_required
@require_POST
def certificate_supplement(request, pk):
    """R-CRT-6 (a): a supplement document with its own number."""
    return _amend(request, pk, AmendmentKind.SUPPLEMENT)


@login_required
@require_POST
def certificate_replace(request, pk):
    """R-CRT-6 (b): a new certificate with a new number; the original becomes void."""
    return _amend(request, pk, AmendmentKind.REPLACEMENT)


@login_required
@require_GET
def certificate_download(request, pk):
    """The issued PDF as stored (never re-rendered); drafts have none (404).  Every staff
    member downloads it (the counter hands certificates over)."""
    permissions.require_or_404(request.user, "certificates.view")
    certificate = get_object_or_404(Certificate, pk=pk, status__in=ISSUED_STATES)
    if not certificate.pdf:
        raise Http404
    try:
        handle = certificate.pdf.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=f"{certificate.number}.pdf", content_type="application/pdf")


# --- from the record ----------------------------------------------------------------------


@login_required
@require_POST
def certificate_prepare(request, pk):
    """A draft certificate for a checked record (the record page posts here)."""
    permissions.require_or_404(request.user, "records.view")
    record = get_object_or_404(Record, pk=pk)
    form = forms.PrepareForm(request.POST)
    if form.is_valid():
        try:
            certificate = services.prepare(actor=request.user, record=record, remarks=form.cleaned_data["remarks"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied as error:
            messages.error(request, str(error) or _("You may not prepare certificates."))
        else:
            messages.success(
                request,
                _("%(type)s prepared from record %(number)s; it awaits approval.")
                % {"type": certificate.get_type_display(), "number": record.number},
            )
            return redirect(_detail_url(certificate))
    else:
        messages.error(request, _errors_text(form))
    return redirect("certificates:record_detail", pk=record.pk)


urlpatterns = [
    path("certificates/", certificate_list, name="certificate_list"),
    path("certificates/awaiting/", certificate_queue, name="certificate_queue"),
    path("certificates/batch/", certificate_batch, name="certificate_batch"),
    path("certificates/batch/status/", certificate_batch_status, name="certificate_batch_status"),
    path("certificates/batch/approve/", certificate_batch_approve, name="certificate_batch_approve"),
    path("certificates/<int:pk>/", certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/pdf/", certificate_download, name="certificate_download"),
    path("certificates/<int:pk>/check/", certificate_check, name="certificate_check"),
    path("certificates/<int:pk>/approve/", certificate_approve, name="certificate_approve"),
    path("certificates/<int:pk>/supplement/", certificate_supplement, name="certificate_supplement"),
    path("certificates/<int:pk>/replace/", certificate_replace, name="certificate_replace"),
    path("records/<int:pk>/certificate/", certificate_prepare, name="certificate_prepare"),
]
