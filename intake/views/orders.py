"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def order_list(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_create(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_edit(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def order_import(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def import_template(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def request_list(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def request_convert(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def request_decline(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


urlpatterns = [
    path("orders/", order_list, name="order_list"),
    path("orders/new/", order_create, name="order_create"),
    path("orders/<int:pk>/edit/", order_edit, name="order_edit"),
    path("orders/<int:pk>/import/", order_import, name="order_import"),
    path("orders/import-template.xlsx", import_template, name="import_template"),
    path("requests/", request_list, name="request_list"),
    path("requests/<int:pk>/convert/", request_convert, name="request_convert"),
    path("requests/<int:pk>/decline/", request_decline, name="request_decline"),
]
