"""Quality queues and figures on the home page (R-MGT-4, R-IMP-3): for the quality
lead the findings with overdue actions, the findings awaiting action, the corrective
actions overdue and the latest survey's results; for the lab head the year's quality
objectives against their targets.

Counts come from the functions the findings register and the action list filter with
(``findings_for_register``, ``overdue_actions``); the figures from the services the
survey and objectives pages show (``survey_analysis``, ``objectives_against_targets``);
see ``labqms.dashboard``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audits.models import FindingStatus, Survey, SurveyResponse
from audits.services.review import objectives_against_targets
from audits.services.surveys import survey_analysis
from labqms.dashboard import FIGURE, Queue, link

# All staff read findings and actions; the quality lead runs them; the lab head approves
# the programme and chairs the management review, where objectives are judged.
ACTIONS = ("audits.view", "audits.manage", "audits.approve")


def queues(user, today: date, *, allowed) -> list[Queue]:
    if not allowed["audits.view"]:
        return []
    rows: list[Queue] = []
    if allowed["audits.manage"]:
        rows += _quality_lead_queues(today)
        rows += _survey_figure()
    if allowed["audits.approve"]:
        rows += _objective_figures(today.year)
    return rows


def _quality_lead_queues(today: date) -> list[Queue]:
    # View modules are imported when needed: they pull in PDF rendering, too heavy for
    # app start-up (this module is imported by AuditsConfig.ready()).
    from audits.views.findings import findings_for_register, overdue_actions

    late_findings = findings_for_register({"overdue": True}, today).count()
    open_findings = findings_for_register({"status": FindingStatus.OPEN}, today).count()
    late_actions = overdue_actions(today).count()
    return [
        Queue(
            key="audits.actions_overdue",
            label=_("Corrective actions overdue"),
            count=late_actions,
            url=link("audits:action_list", scope="all", overdue="on"),
            level="danger",
        ),
        Queue(
            key="audits.findings_overdue",
            label=_("Findings with overdue actions"),
            count=late_findings,
            url=link("audits:finding_list", overdue="on"),
            level="danger",
        ),
        Queue(
            key="audits.findings_open",
            label=_("Findings awaiting action"),
            count=open_findings,
            url=link("audits:finding_list", status=FindingStatus.OPEN),
            level="warning",
            hint=_("Open: no corrective action proposed yet"),
        ),
    ]


def _survey_figure() -> list[Queue]:
    """The latest survey that has answers: its mean overall score."""
    answered = SurveyResponse.objects.filter(invitation__survey=OuterRef("pk"))
    survey = Survey.objects.filter(Exists(answered)).order_by("-created_at", "-id").first()
    if survey is None:
        return []
    analysis = survey_analysis(survey)
    mean = analysis["averages"].get("overall")
    if mean is None:
        level = "secondary"
    elif analysis["low"]:
        level = "warning"
    else:
        level = "success"
    return [
        Queue(
            key="audits.survey",
            label=_("Satisfaction survey: mean overall score"),
            count=analysis["responses"],
            url=link("audits:survey_detail", survey.pk),
            level=level,
            kind=FIGURE,
            value=_("%(mean)s of 5") % {"mean": mean} if mean is not None else "—",
            hint=ngettext(
                "%(title)s: %(n)d answer, %(low)d with low scores",
                "%(title)s: %(n)d answers, %(low)d with low scores",
                analysis["responses"],
            )
            % {"title": survey.title, "n": analysis["responses"], "low": analysis["low"]},
        )
    ]


def _objective_figures(year: int) -> list[Queue]:
    from audits.views.review import objective_rows

    url = link("audits:objective_list", year=year)
    levels = {"met": "success", "not_met": "danger", "none": "secondary"}
    return [
        Queue(
            key=f"audits.objective.{row['measure']}",
            label=row["label"],
            count=None,
            url=url,
            level=levels[row["met_key"]],
            kind=FIGURE,
            value="—" if row["value"] is None else str(row["value"]),
            hint=_("Target %(comparison)s %(target)s: %(result)s")
            % {"comparison": row["comparison"], "target": _plain_number(row["target"]), "result": row["met_text"]},
        )
        for row in objective_rows(objectives_against_targets(year))
    ]


def _plain_number(number) -> str:
    """100.00 → "100", 95.50 → "95.5": a target reads like the value next to it."""
    if isinstance(number, Decimal):
        return format(number.normalize(), "f")
    return str(number)
