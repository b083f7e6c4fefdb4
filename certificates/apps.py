from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Records and certificates")

    def ready(self):
        from certificates import dashboard
        from labqms.dashboard import register

        register(dashboard.queues, actions=dashboard.ACTIONS)
