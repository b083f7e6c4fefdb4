"""Satisfaction surveys and evaluation reports (R-IMP-1, R-IMP-2).

A survey sends single-use links (by e-mail, and shown in the customer's portal); an
answer with a low score becomes an observation-grade finding for the quality lead.
Self-evaluation and third-party evaluation reports are recorded with their analysis;
their problems become findings with corrective actions (:mod:`audits.services.audits`).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audits.models import (
    LOW_SCORE,
    QUESTIONS,
    EvaluationKind,
    EvaluationReport,
    FindingGrade,
    FindingSource,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from labqms import audit, permissions


def create_survey(*, actor, title: str, period_start: dt.date | None = None, period_end: dt.date | None = None) -> Survey:
    permissions.require(actor, "audits.manage")
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("Give the survey a title.")
    if period_start and period_end and period_end < period_start:
        errors["period_end"] = _("The end is before the start.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        survey = Survey.objects.create(title=title.strip(), period_start=period_start, period_end=period_end, created_by=actor)
        audit.record(actor=actor, action="survey.created", target=survey)
    return survey


def invite(*, actor, survey: Survey, customers=(), orders=()) -> list[SurveyInvitation]:
    """One single-use link per customer (a period survey) or per released order; the
    e-mails go out after commit.  A customer or order already invited is skipped."""
    permissions.require(actor, "audits.manage")
    already_orders = set(survey.invitations.exclude(order=None).values_list("order_id", flat=True))
    already_customers = set(survey.invitations.filter(order=None).values_list("customer_id", flat=True))
    rows = []
    for order in orders:
        if order.pk in already_orders:
            continue
        if order.status not in ("released", "completed"):
            raise ValidationError(_("Order %(number)s is not completed; ask about it once it is released.") % {"number": order.number})
        email = order.contact.email if order.contact and order.contact.email else order.customer.email
        rows.append(SurveyInvitation(survey=survey, customer=order.customer, order=order, email=email, token=secrets.token_urlsafe(24)))
    for customer in customers:
        if customer.pk in already_customers:
            continue
        rows.append(SurveyInvitation(survey=survey, customer=customer, email=customer.email, token=secrets.token_urlsafe(24)))
    with transaction.atomic():
        SurveyInvitation.objects.bulk_create(rows)
        created = list(SurveyInvitation.objects.filter(token__in=[r.token for r in rows]))
        audit.record(actor=actor, action="survey.invited", target=survey, changes={"invitations": [None, len(created)]})
        ids = [i.pk for i in created if i.email]
        if ids:
            from audits import tasks

            transaction.on_commit(lambda: tasks.send_survey_invitations.delay(ids))
    return created


def invitation_url(invitation: SurveyInvitation) -> str:
    return settings.LABQMS_PUBLIC_URL + reverse("audits:survey_answer", args=[invitation.token])


def send_invitation(invitation: SurveyInvitation) -> None:
    send_mail(
        _("Your opinion of our service: %(title)s") % {"title": invitation.survey.title},
        _("Please tell us how we did. The link works once: %(url)s") % {"url": invitation_url(invitation)},
        settings.DEFAULT_FROM_EMAIL, [invitation.email],
    )
    SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())


def invitation_for(token: str) -> SurveyInvitation | None:
    return SurveyInvitation.objects.select_related("survey", "customer", "order").filter(token=token or "").first()


def answer(*, token: str, scores: dict, comments: str = "") -> SurveyResponse:
    """The customer answers through the link (no sign-in); a link works once."""
    errors = {}
    clean = {}
    for key, _label in QUESTIONS:
        try:
            value = int(scores.get(key))
        except (TypeError, ValueError):
            errors[key] = _("Choose a score from 1 to 5.")
            continue
        if not 1 <= value <= 5:
            errors[key] = _("Choose a score from 1 to 5.")
        clean[key] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        invitation = SurveyInvitation.objects.select_for_update().filter(token=token or "").first()
        if invitation is None:
            raise ValidationError(_("This survey link is not valid."))
        if invitation.used_at is not None:
            raise ValidationError(_("This survey link was already used on %(date)s; thank you.") % {"date": timezone.localdate(invitation.used_at)})
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        response = SurveyResponse.objects.create(invitation=invitation, scores=clean, comments=(comments or "").strip())
        low = [str(label) for key, label in QUESTIONS if clean[key] <= LOW_SCORE]
        if low:
            from audits.services.audits import raise_finding

            with translation.override(settings.LANGUAGE_CODE):  # stored text: the lab's language
                low = [str(label) for key, label in QUESTIONS if clean[key] <= LOW_SCORE]
                description = _("Low satisfaction score from %(customer)s: %(items)s. %(comments)s") % {
                    "customer": invitation.customer.name, "items": "、".join(low), "comments": response.comments,
                }
            raise_finding(
                actor=None, source=FindingSource.SURVEY, origin=response, grade=FindingGrade.OBSERVATION,
                description=description, clause="8.6",
            )
    return response


def survey_analysis(survey: Survey) -> dict:
    """Averages per question, the response rate and the low-score count of one survey."""
    from decimal import Decimal

    invitations = survey.invitations.count()
    responses = list(SurveyResponse.objects.filter(invitation__survey=survey).values_list("scores", flat=True))
    averages = {}
    for key, _label in QUESTIONS:
        values = [int(r[key]) for r in responses if key in r]
        averages[key] = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01")) if values else None
    return {
        "invitations": invitations,
        "responses": len(responses),
        "response_rate": (Decimal(len(responses) * 100) / invitations).quantize(Decimal("0.1")) if invitations else None,
        "averages": averages,
        "low": sum(1 for r in responses if any(int(v) <= LOW_SCORE for v in r.values())),
    }


def record_evaluation(*, actor, kind: str, title: str, evaluator: str, period_start: dt.date, period_end: dt.date,
                      analysis: str, upload=None) -> EvaluationReport:
    permissions.require(actor, "audits.manage")
    errors = {}
    if kind not in EvaluationKind.values:
        errors["kind"] = _("Choose self-evaluation or third-party evaluation.")
    if not (title or "").strip():
        errors["title"] = _("Give the report a title.")
    if kind == EvaluationKind.THIRD_PARTY and not (evaluator or "").strip():
        errors["evaluator"] = _("Name the third party.")
    if not period_start or not period_end:
        errors["period_start"] = _("Enter the period evaluated.")
    elif period_end < period_start:
        errors["period_end"] = _("The end is before the start.")
    if not (analysis or "").strip():
        errors["analysis"] = _("Write the analysis of the report.")
    if kind == EvaluationKind.THIRD_PARTY and upload is None:
        errors["file"] = _("Attach the third party's report.")
    if errors:
        raise ValidationError(errors)
    sha = ""
    if upload is not None:
        from equipment.services.register import (
            check_upload,  # PDF/PNG/JPEG ≤ 10 MB, content checked
        )

        sha = check_upload(upload, "file")
    with transaction.atomic():
        report = EvaluationReport.objects.create(
            kind=kind, title=title.strip(), evaluator=(evaluator or "").strip(), period_start=period_start,
            period_end=period_end, analysis=analysis.strip(), uploaded_by=actor, sha256=sha,
            **({"file": upload} if upload is not None else {}),
        )
        audit.record(actor=actor, action="evaluation.recorded", target=report)
    return report
