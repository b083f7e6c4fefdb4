from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        from complaints import dashboard
        from labqms.dashboard import register

        register(dashboard.queues, actions=dashboard.ACTIONS)
