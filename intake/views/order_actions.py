"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def order_detail(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_review(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_reopen(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_confirm(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_accept(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_cancel(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_pdf(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_notice(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_payment(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_credit(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def visit_add(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def visit_confirm(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def visit_handover(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


urlpatterns = [
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/review/", order_review, name="order_review"),
    path("orders/<int:pk>/reopen/", order_reopen, name="order_reopen"),
    path("orders/<int:pk>/confirm/", order_confirm, name="order_confirm"),
    path("orders/<int:pk>/accept/", order_accept, name="order_accept"),
    path("orders/<int:pk>/cancel/", order_cancel, name="order_cancel"),
    path("orders/<int:pk>/order.pdf", order_pdf, name="order_pdf"),
    path("orders/<int:pk>/notice/", order_notice, name="order_notice"),
    path("orders/<int:pk>/payment/", order_payment, name="order_payment"),
    path("orders/<int:pk>/credit/", order_credit, name="order_credit"),
    path("orders/<int:pk>/visits/add/", visit_add, name="visit_add"),
    path("visits/<int:pk>/confirm/", visit_confirm, name="visit_confirm"),
    path("visits/<int:pk>/handover/", visit_handover, name="visit_handover"),
]
