"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def equipment_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def equipment_export_xlsx(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def equipment_export_pdf(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def equipment_create(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def equipment_edit(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def standard_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def standard_create(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def standard_edit(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


urlpatterns = [
    path("", equipment_list, name="equipment_list"),
    path("export.xlsx", equipment_export_xlsx, name="equipment_export_xlsx"),
    path("export.pdf", equipment_export_pdf, name="equipment_export_pdf"),
    path("new/", equipment_create, name="equipment_create"),
    path("<int:pk>/edit/", equipment_edit, name="equipment_edit"),
    path("standards/", standard_list, name="standard_list"),
    path("standards/new/", standard_create, name="standard_create"),
    path("standards/<int:pk>/edit/", standard_edit, name="standard_edit"),
]
