"""Navigation entries by role: a menu shows only what the person may open.

Entries are grouped into a few dropdowns so that the bar fits on one line at 1280 px
whatever roles a person holds; a group with a single entry the person may open is shown
as a plain link named after that entry."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from labqms import permissions
from labqms.models import Notification

# (group label, or None for top-level entries; [(label, url name, permission action or
# None for every signed-in person)]).  Pages another part of the system may not have yet
# (a URL name that does not resolve, an action not in the rules) are left out.
NAV_GROUPS = [
    (None, [(_("Home"), "home", None)]),
    (
        _("Intake"),
        [
            (_("Orders"), "intake:order_list", "intake.view"),
            (_("Samples"), "intake:sample_list", "intake.view"),
            (_("Customers"), "intake:customer_list", "intake.view"),
        ],
    ),
    (
        _("Lab work"),
        [
            (_("My tasks"), "certificates:my_tasks", "records.assign"),
            (_("Records"), "certificates:record_list", "records.view"),
            (_("Certificates"), "certificates:certificate_list", "certificates.view"),
            (_("Methods"), "certificates:method_list", "records.view"),
        ],
    ),
    (
        _("Equipment"),
        [
            (_("Equipment"), "equipment:equipment_list", "equipment.view"),
            (_("Due and overdue"), "equipment:due_list", "equipment.view"),
            (_("Impact analyses"), "equipment:impact_list", "equipment.view"),
        ],
    ),
    (
        _("Quality"),
        [
            (_("Complaints"), "complaints:complaint_list", "complaints.view"),
            (_("Audits"), "audits:programme_list", "audits.view"),
            (_("Statistics"), "audits:statistics", "statistics.view"),
        ],
    ),
    (None, [(_("My orders"), "portal:home", "portal.use")]),
    (
        _("Administration"),
        [
            (_("People"), "people:person_list", "people.view"),
            (_("Working-day calendar"), "calendar:calendar_year", "calendar.view"),
            (_("Audit trail"), "people:audit_list", "audit.view"),
        ],
    ),
]


def _known(name: str, action: str | None) -> str | None:
    """The entry's URL, or None when its page or its permission does not exist."""
    if action is not None and action not in permissions.RULES and action not in permissions.ANY_OF:
        return None
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_groups": []}
    entries = [
        (group, label, url, action)
        for group, items in NAV_GROUPS
        for label, name, action in items
        if (url := _known(name, action)) is not None
    ]
    allowed = permissions.can_many(user, {action for *_rest, action in entries if action} | {"intake.view"})
    items = [
        {"label": label, "url": url, "active": request.path == url, "group": group}
        for group, label, url, action in entries
        if action is None or allowed[action]
    ]
    return {
        # Flat, in menu order (tests and other templates read it).
        "nav_items": items,
        "nav_groups": _grouped(items),
        "can_scan": allowed["intake.view"],
        "unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    }


def _grouped(items: list[dict]) -> list[dict]:
    """Consecutive items of one group as one dropdown ``{"label", "items", "active"}``;
    a top-level item, or a group the person sees one entry of, as ``{"item": …}``."""
    groups: list[dict] = []
    for item in items:
        last = groups[-1] if groups else None
        if item["group"] is not None and last is not None and last.get("key") == item["group"]:
            last["items"].append(item)
        else:
            groups.append({"key": item["group"], "label": item["group"], "items": [item]})
    for group in groups:
        group["dropdown"] = group["key"] is not None and len(group["items"]) > 1
        group["active"] = any(item["active"] for item in group["items"])
    return groups
