from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from labqms import permissions
from labqms.selectors import people as people_selectors


@login_required
def home(request):
    """The signed-in person's roles, authorisations, qualifications and delegations."""
    today = timezone.localdate()
    user = request.user
    context = {
        "today": today,
        "roles": permissions.effective_roles(user, today),
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
