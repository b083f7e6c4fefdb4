"""The signed-in person's notifications (the bell in the menu bar)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from labqms.models import Notification
from labqms.pagination import Paginator

PAGE_SIZE = 25


@login_required
def notification_list(request):
    rows = Notification.objects.filter(recipient=request.user)
    if request.GET.get("unread"):
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "labqms/notification_list.html", {"page": page, "querystring": ""})


@login_required
@require_POST
def notification_open(request, pk):
    """Mark one as read and follow its link (only links within this site)."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:notification_list")


@login_required
@require_POST
def notification_read_all(request):
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications:notification_list")


urlpatterns = [
    path("", notification_list, name="notification_list"),
    path("<int:pk>/open/", notification_open, name="notification_open"),
    path("read-all/", notification_read_all, name="notification_read_all"),
]
