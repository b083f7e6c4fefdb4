"""One complaint and its steps (R-CMP-1..7): the page shows everything about the
complaint, and offers each step's form only to whoever may take it now (role, status,
responsible department).  Each step is a POST that calls one service; a refusal is shown
on the page with what was typed kept, and nothing is changed.

Who does what is the services' business (``complaints.services.complaints``): the
quality lead accepts, reassigns, classifies, replies, extends, proposes compensation and closes;
the responsible department records findings, proposes the handling opinion and carries
it out; the responsible person (general) or the lab head (major) approves the opinion —
never someone who proposed it or worked on what is complained about (ISO/IEC 17025
7.9.6); the lab head decides compensation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints import forms
from complaints.models import (
    Compensation,
    CompensationStatus,
    Complaint,
    ComplaintClass,
    ComplaintStatus,
)
from complaints.services import complaints as services
from complaints.views.staff_common import complaint_or_404, file_context, full_complaint
from labqms import permissions
from labqms.forms import add_service_errors
from labqms.models import StaffProfile

S = ComplaintStatus

# key (form prefix and context name) -> form class
FORMS: dict[str, type] = {
    "accept": forms.AcceptForm,
    "dismiss": forms.DismissForm,
    "reassign": forms.ReassignForm,
    "findings": forms.FindingsForm,
    "classify": forms.ClassifyForm,
    "propose": forms.OpinionForm,
    "decide": forms.DecideOpinionForm,
    "carry_out": forms.CarryOutForm,
    "reply": forms.ReplyForm,
    "extend": forms.ExtendForm,
    "compensate": forms.CompensationForm,
    "decide_compensation": forms.DecideCompensationForm,
    "close": forms.CloseForm,
}


def detail_url(complaint, section: str = "") -> str:
    url = reverse("complaints:complaint_detail", args=[complaint.pk])
    return f"{url}#{section}" if section else url


@dataclass
class Offers:
    """Which step forms the page shows ``user`` now, and why a step is blocked (the
    services still decide)."""

    accept: bool = False
    dismiss: bool = False
    reassign: bool = False
    findings: bool = False
    classify: bool = False
    propose: bool = False
    decide: bool = False
    decide_blocked: str = ""
    carry_out: bool = False
    reply: bool = False
    extend: bool = False
    compensate: bool = False
    decide_compensation: bool = False
    close: bool = False
    close_blocked: str = ""
    pending_compensation: Compensation | None = None

    @classmethod
    def of(cls, user, complaint: Complaint) -> Offers:
        status, klass = complaint.status, complaint.classification
        handles = permissions.can(user, "complaints.handle")
        department = handles or user.pk == complaint.responsible_person_id or services.is_department_member(user, complaint)
        pending = next((c for c in complaint.compensations.all() if c.status == CompensationStatus.PROPOSED), None)
        offers = cls(pending_compensation=pending)
        offers.accept = offers.dismiss = handles and status == S.REGISTERED
        offers.reassign = handles and complaint.is_open
        offers.findings = department and status in (S.ACCEPTED, S.CLASSIFIED, S.PROPOSED)
        offers.classify = handles and status == S.ACCEPTED
        offers.propose = (
            department and status == S.CLASSIFIED and klass != ComplaintClass.INVALID
            # whoever decides does not propose (see services.propose_opinion)
            and not (klass == ComplaintClass.GENERAL and user.pk == complaint.responsible_person_id)
            and not (klass == ComplaintClass.MAJOR and permissions.can(user, "complaints.approve_major"))
        )
        if status == S.PROPOSED:
            if klass == ComplaintClass.MAJOR:
                offers.decide = permissions.can(user, "complaints.approve_major")
            else:
                offers.decide = user.pk == complaint.responsible_person_id
            if offers.decide:
                offers.decide_blocked = _blocker(user, complaint)
        offers.carry_out = department and status == S.APPROVED
        offers.reply = handles and (status == S.CARRIED_OUT or (klass == ComplaintClass.INVALID and status == S.CLASSIFIED))
        offers.extend = handles and complaint.is_open
        offers.compensate = (
            handles and not permissions.can(user, "complaints.approve_compensation") and pending is None and klass != ComplaintClass.INVALID
            and status not in (S.REGISTERED, S.DISMISSED, S.CLOSED)
        )
        offers.decide_compensation = (
            pending is not None and pending.proposed_by_id != user.pk and permissions.can(user, "complaints.approve_compensation")
        )
        offers.close = handles and status == S.REPLIED
        if offers.close and pending is not None:
            offers.close_blocked = _("A compensation proposal is still waiting for the lab head.")
        return offers

    def shows(self, key: str) -> bool:
        if key == "decide":
            return self.decide and not self.decide_blocked
        if key == "close":
            return self.close and not self.close_blocked
        return getattr(self, key)


def _blocker(user, complaint: Complaint) -> str:
    """Why ``user``, the approver by role, may not decide this opinion (the services'
    words: the person who proposed it, or someone involved in the work, 7.9.6)."""
    if user.pk == complaint.opinion_by_id:
        return _("You proposed this opinion; someone else approves it.")
    reasons = services.involvement(complaint).get(user.pk)
    if reasons:
        return _(
            "You %(what)s: someone not involved in the work complained about approves the outcome (ISO/IEC 17025 7.9.6)."
        ) % {"what": ", ".join(reasons)}
    return ""


def _departments() -> list[str]:
    return list(
        StaffProfile.objects.exclude(department="").order_by("department").values_list("department", flat=True).distinct()
    )


def _detail_context(request, complaint: Complaint, bound: dict | None = None) -> dict:
    offers = Offers.of(request.user, complaint)
    step_forms = {key: form_class(prefix=key) for key, form_class in FORMS.items() if offers.shows(key)}
    if "findings" in step_forms:
        step_forms["findings"] = forms.FindingsForm(prefix="findings", initial={"findings": complaint.findings})
    if "reassign" in step_forms:
        step_forms["reassign"] = forms.ReassignForm(prefix="reassign", initial={"department": complaint.department})
    step_forms.update(bound or {})
    return {
        **file_context(complaint),
        "offers": offers,
        "step_forms": step_forms,
        **{f"{key}_form": form for key, form in step_forms.items()},
        "departments": _departments() if "accept" in step_forms or "reassign" in step_forms else [],
    }


@login_required
@require_GET
def complaint_detail(request, pk):
    complaint = complaint_or_404(request, pk)
    return render(request, "complaints/complaint_detail.html", _detail_context(request, complaint))


def _errors_text(form) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def _step(request, complaint: Complaint, key: str, call: Callable[[dict], object], done: str, section: str):
    """Run one step: parse the form, call the service, say what happened.  Refused: the
    form with its errors and input when the page offers it to this user, otherwise a
    message on the complaint page."""
    form = FORMS[key](request.POST, prefix=key)
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("You may not do this."))
        else:
            messages.success(request, done)
            return redirect(detail_url(complaint, section))
    complaint = full_complaint(complaint.pk)  # as it stands now (nothing was changed)
    if not Offers.of(request.user, complaint).shows(key):
        messages.error(request, _errors_text(form) or _("Nothing was changed."))
        return redirect(detail_url(complaint, section))
    messages.error(request, _("Nothing was changed; see the form below."))
    return render(request, "complaints/complaint_detail.html", _detail_context(request, complaint, {key: form}))


def _complaint(request, pk) -> Complaint:
    permissions.require_or_404(request.user, "complaints.view")
    return get_object_or_404(Complaint, pk=pk)


@login_required
@require_POST
def complaint_accept(request, pk):
    """R-CMP-3: accepted; reply due 10 working days later; the complainant is told."""
    complaint = _complaint(request, pk)

    def call(data):
        services.accept(actor=request.user, complaint=complaint, department=data["department"],
                        responsible_person=data["responsible_person"], accepted_on=data["accepted_on"])

    return _step(request, complaint, "accept", call,
                 _("Complaint %(number)s accepted; the complainant is told.") % {"number": complaint.number}, "clock")


@login_required
@require_POST
def complaint_reassign(request, pk):
    """Another department or responsible person while the complaint is open; the clock
    does not restart; refused for someone involved in the work (ISO/IEC 17025 7.9.6)."""
    complaint = _complaint(request, pk)

    def call(data):
        services.reassign(actor=request.user, complaint=complaint, department=data["department"],
                          responsible_person=data["responsible_person"], reason=data["reason"])

    return _step(request, complaint, "reassign", call,
                 _("Responsibility for complaint %(number)s changed; the new responsible person is told.")
                 % {"number": complaint.number}, "clock")


@login_required
@require_POST
def complaint_dismiss(request, pk):
    complaint = _complaint(request, pk)
    return _step(request, complaint, "dismiss",
                 lambda data: services.dismiss(actor=request.user, complaint=complaint, reason=data["reason"]),
                 _("Complaint %(number)s not accepted.") % {"number": complaint.number}, "status")


@login_required
@require_POST
def complaint_findings(request, pk):
    complaint = _complaint(request, pk)
    return _step(request, complaint, "findings",
                 lambda data: services.record_findings(actor=request.user, complaint=complaint, findings=data["findings"]),
                 _("Findings recorded."), "investigation")


@login_required
@require_POST
def complaint_classify(request, pk):
    """R-CMP-4..6: invalid, general or major (major: reported to the lab head)."""
    complaint = _complaint(request, pk)

    def call(data):
        services.classify(actor=request.user, complaint=complaint, classification=data["classification"],
                          substantiated=data["substantiated"], management_review=data["management_review"], note=data["note"])

    return _step(request, complaint, "classify", call, _("Complaint classified."), "investigation")


@login_required
@require_POST
def complaint_propose_opinion(request, pk):
    complaint = _complaint(request, pk)
    return _step(request, complaint, "propose",
                 lambda data: services.propose_opinion(actor=request.user, complaint=complaint, opinion=data["opinion"]),
                 _("Handling opinion proposed; it awaits approval."), "handling")


@login_required
@require_POST
def complaint_decide_opinion(request, pk):
    """R-CMP-5/6: the responsible person (general) or the lab head (major) approves or
    sends back; refused for whoever proposed it or worked on what is complained about."""
    complaint = _complaint(request, pk)
    approve = request.POST.get("decide-decision") == forms.APPROVE

    def call(data):
        services.decide_opinion(actor=request.user, complaint=complaint, approve=data["decision"] == forms.APPROVE,
                                comment=data["comment"])

    done = _("Handling opinion approved.") if approve else _("Handling opinion sent back.")
    return _step(request, complaint, "decide", call, done, "handling")


@login_required
@require_POST
def complaint_carry_out(request, pk):
    complaint = _complaint(request, pk)
    return _step(request, complaint, "carry_out",
                 lambda data: services.carry_out(actor=request.user, complaint=complaint, note=data["note"]),
                 _("Recorded as carried out."), "handling")


@login_required
@require_POST
def complaint_reply(request, pk):
    """R-CMP-3..6: the reply within the clock (general: the result is published)."""
    complaint = _complaint(request, pk)
    return _step(request, complaint, "reply",
                 lambda data: services.reply(actor=request.user, complaint=complaint, text=data["text"], publish=data["publish"]),
                 _("Reply sent to the complainant."), "reply")


@login_required
@require_POST
def complaint_extend(request, pk):
    """R-CMP-3 special case: a later due date with the explanation sent."""
    complaint = _complaint(request, pk)
    return _step(request, complaint, "extend",
                 lambda data: services.extend(actor=request.user, complaint=complaint, new_due=data["new_due"],
                                              explanation=data["explanation"]),
                 _("Due date extended; the explanation is sent to the complainant."), "clock")


@login_required
@require_POST
def complaint_propose_compensation(request, pk):
    """R-CMP-7: what was agreed; the lab head approves."""
    complaint = _complaint(request, pk)
    return _step(request, complaint, "compensate",
                 lambda data: services.propose_compensation(actor=request.user, complaint=complaint, amount=data["amount"],
                                                            in_kind=data["in_kind"], agreement=data["agreement"]),
                 _("Compensation proposed; it awaits the lab head."), "compensation")


@login_required
@require_POST
def compensation_decide(request, pk):
    permissions.require_or_404(request.user, "complaints.view")
    compensation = get_object_or_404(Compensation.objects.select_related("complaint"), pk=pk)
    approve = request.POST.get("decide_compensation-decision") == forms.APPROVE

    def call(data):
        services.decide_compensation(actor=request.user, compensation=compensation,
                                     approve=data["decision"] == forms.APPROVE, note=data["note"])

    done = _("Compensation approved.") if approve else _("Compensation refused.")
    return _step(request, compensation.complaint, "decide_compensation", call, done, "compensation")


@login_required
@require_POST
def complaint_close(request, pk):
    complaint = _complaint(request, pk)
    return _step(request, complaint, "close",
                 lambda data: services.close(actor=request.user, complaint=complaint, feedback=data["feedback"],
                                             feedback_note=data["feedback_note"]),
                 _("Complaint %(number)s closed.") % {"number": complaint.number}, "status")


urlpatterns = [
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
    path("complaints/<int:pk>/accept/", complaint_accept, name="complaint_accept"),
    path("complaints/<int:pk>/dismiss/", complaint_dismiss, name="complaint_dismiss"),
    path("complaints/<int:pk>/reassign/", complaint_reassign, name="complaint_reassign"),
    path("complaints/<int:pk>/findings/", complaint_findings, name="complaint_findings"),
    path("complaints/<int:pk>/classify/", complaint_classify, name="complaint_classify"),
    path("complaints/<int:pk>/opinion/", complaint_propose_opinion, name="complaint_propose_opinion"),
    path("complaints/<int:pk>/opinion/decide/", complaint_decide_opinion, name="complaint_decide_opinion"),
    path("complaints/<int:pk>/carry-out/", complaint_carry_out, name="complaint_carry_out"),
    path("complaints/<int:pk>/reply/", complaint_reply, name="complaint_reply"),
    path("complaints/<int:pk>/extend/", complaint_extend, name="complaint_extend"),
    path("complaints/<int:pk>/compensation/", complaint_propose_compensation, name="complaint_propose_compensation"),
    path("complaints/compensations/<int:pk>/decide/", compensation_decide, name="compensation_decide"),
    path("complaints/<int:pk>/close/", complaint_close, name="complaint_close"),
]
