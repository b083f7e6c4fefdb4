"""Tasks: the queue of samples waiting for a task, assignment, "my tasks" (performer and
checker queues, on-site tasks grouped by visit), start / reassign / cancel.  STUB."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from labqms import permissions


@login_required
def stub(request, *args, **kwargs):
    permissions.require_or_404(request.user, "records.view")
    return HttpResponse("todo")


urlpatterns = [
    path("tasks/", stub, name="task_list"),
    path("tasks/mine/", stub, name="my_tasks"),
    path("tasks/unassigned/", stub, name="unassigned"),
    path("tasks/assign/", stub, name="task_assign"),
    path("tasks/<int:pk>/start/", stub, name="task_start"),
    path("tasks/<int:pk>/reassign/", stub, name="task_reassign"),
    path("tasks/<int:pk>/cancel/", stub, name="task_cancel"),
]
