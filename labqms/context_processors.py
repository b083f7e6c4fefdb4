"""Navigation entries by role: a menu shows only what the person may open."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from labqms import permissions
from labqms.models import Notification

# (label, url name, permission action or None for every signed-in person)
NAV_ITEMS = [
    (_("Home"), "home", None),
    (_("Orders"), "intake:order_list", "intake.view"),
    (_("Samples"), "intake:sample_list", "intake.view"),
    (_("Customers"), "intake:customer_list", "intake.view"),
    (_("My tasks"), "certificates:my_tasks", "records.assign"),
    (_("Records"), "certificates:record_list", "records.view"),
    (_("Certificates"), "certificates:certificate_list", "certificates.view"),
    (_("Methods"), "certificates:method_list", "records.view"),
    (_("Equipment"), "equipment:equipment_list", "equipment.view"),
    (_("Complaints"), "complaints:complaint_list", "complaints.view"),
    (_("Audits"), "audits:programme_list", "audits.view"),
    (_("My orders"), "portal:home", "portal.use"),
    (_("People"), "people:person_list", "people.view"),
    (_("Working-day calendar"), "calendar:calendar_year", "calendar.view"),
    (_("Audit trail"), "people:audit_list", "audit.view"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    allowed = permissions.can_many(user, {action for _l, _n, action in NAV_ITEMS if action} | {"intake.view"})
    items = [
        {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
        for label, name, action in NAV_ITEMS
        if action is None or allowed[action]
    ]
    return {
        "nav_items": items,
        "can_scan": allowed["intake.view"],
        "unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    }
