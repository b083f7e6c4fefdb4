from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EquipmentConfig(AppConfig):
    name = "equipment"
    verbose_name = _("Equipment")

    def ready(self):
        from equipment import dashboard
        from labqms.dashboard import register

        register(dashboard.queues, actions=dashboard.ACTIONS)
