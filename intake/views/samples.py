"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def sample_list(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_detail(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_scan(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_receive(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_store(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_hold(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_resume(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_return(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_in_test(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_tested(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_integrity(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_labels(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def sample_label(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def ready_queue(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def at_risk_queue(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_release(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


urlpatterns = [
    path("samples/", sample_list, name="sample_list"),
    path("samples/<int:pk>/", sample_detail, name="sample_detail"),
    path("samples/scan/", sample_scan, name="sample_scan"),
    path("orders/<int:pk>/receive/", order_receive, name="order_receive"),
    path("samples/<int:pk>/store/", sample_store, name="sample_store"),
    path("samples/<int:pk>/hold/", sample_hold, name="sample_hold"),
    path("samples/<int:pk>/resume/", sample_resume, name="sample_resume"),
    path("samples/<int:pk>/return/", sample_return, name="sample_return"),
    path("samples/<int:pk>/in-test/", sample_in_test, name="sample_in_test"),
    path("samples/<int:pk>/tested/", sample_tested, name="sample_tested"),
    path("samples/<int:pk>/integrity/", sample_integrity, name="sample_integrity"),
    path("orders/<int:pk>/labels.pdf", order_labels, name="order_labels"),
    path("samples/<int:pk>/label.pdf", sample_label, name="sample_label"),
    path("queues/ready/", ready_queue, name="ready_queue"),
    path("queues/at-risk/", at_risk_queue, name="at_risk_queue"),
    path("orders/<int:pk>/release/", order_release, name="order_release"),
]
