"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def equipment_detail(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def equipment_status(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def attachment_add(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def calibration_add(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def calibration_confirm(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def calibration_approve(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def corrections_set(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def check_plan_add(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def check_add(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def log_add(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def checkout(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def checkin(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


urlpatterns = [
    path("<int:pk>/", equipment_detail, name="equipment_detail"),
    path("<int:pk>/status/", equipment_status, name="equipment_status"),
    path("<int:pk>/attachments/add/", attachment_add, name="attachment_add"),
    path("<int:pk>/calibrations/add/", calibration_add, name="calibration_add"),
    path("calibrations/<int:pk>/confirm/", calibration_confirm, name="calibration_confirm"),
    path("calibrations/<int:pk>/approve/", calibration_approve, name="calibration_approve"),
    path("calibrations/<int:pk>/corrections/", corrections_set, name="corrections_set"),
    path("<int:pk>/check-plans/add/", check_plan_add, name="check_plan_add"),
    path("check-plans/<int:pk>/checks/add/", check_add, name="check_add"),
    path("<int:pk>/log/add/", log_add, name="log_add"),
    path("<int:pk>/checkout/", checkout, name="checkout"),
    path("checkouts/<int:pk>/return/", checkin, name="checkin"),
]
