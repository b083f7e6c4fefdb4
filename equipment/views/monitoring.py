"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def labels_pdf(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def label_pdf(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def due_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def impact_list(request):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def impact_detail(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def impact_decide(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


@login_required
def impact_conclude(request, pk):
    permissions.require_or_404(request.user, "equipment.view")
    raise Http404


urlpatterns = [
    path("labels.pdf", labels_pdf, name="labels_pdf"),
    path("<int:pk>/label.pdf", label_pdf, name="label_pdf"),
    path("due/", due_list, name="due_list"),
    path("impact/", impact_list, name="impact_list"),
    path("impact/<int:pk>/", impact_detail, name="impact_detail"),
    path("impact/items/<int:pk>/decide/", impact_decide, name="impact_decide"),
    path("impact/<int:pk>/conclude/", impact_conclude, name="impact_conclude"),
]
