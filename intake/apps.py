from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = _("Intake")

    def ready(self):
        from intake import dashboard
        from intake.models import ReviewDecision
        from labqms.dashboard import register
        from labqms.models.audit import register_change_labels

        register(dashboard.queues, actions=dashboard.ACTIONS)

        register_change_labels(
            "intake.order",
            {
                "lines": _("lines"),
                "decision": (_("review decision"), ReviewDecision.choices),
                "fee_total": _("total fee (CNY)"),
                "fees": _("fee per unit (CNY)"),
                "samples": _("samples"),
                "payment": _("payment"),
                "receiver": _("received by"),
                "visit": _("on-site visit"),
                "site": _("site conditions confirmed"),
                "handed_over_to": _("handed over to"),
                "confirmation": _("customer confirmation"),
                "credit": _("credit"),
                "notice": _("customer notice"),
            },
        )
        register_change_labels("intake.onlinerequest", {"items": _("items"), "order": _("order")})
