from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from labqms import dashboard, permissions
from labqms.selectors import people as people_selectors

# The shortcuts under the queues; answered in the dashboard's one permission call.
SHORTCUT_ACTIONS = ("intake.view", "intake.receive_order", "equipment.view")


@login_required
def home(request):
    """The signed-in person's work queues with counts, most urgent first, each linked to
    the filtered list (R-MGT-4); below them the person's roles, authorisations,
    qualifications and delegations.  A constant number of queries whatever the data."""
    today = timezone.localdate()
    user = request.user
    board = dashboard.collect(user, today, extra_actions=SHORTCUT_ACTIONS) if user.is_lab_staff else None
    may = board.allowed if board else {}
    context = {
        "today": today,
        "roles": permissions.effective_roles(user, today),
        "dashboard": board,
        "shortcuts": {
            "intake": may.get("intake.view", False),
            "receive_orders": may.get("intake.receive_order", False),
            "equipment": may.get("equipment.view", False),
        },
        **people_selectors.person_overview(user, today),
    }
    return render(request, "labqms/home.html", context)


@require_GET
def healthz(request):
    """Liveness for the compose file and load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    if request.GET.get("format") == "json":
        return JsonResponse({"status": "ok"})
    return HttpResponse("ok", content_type="text/plain")
