"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def home(request):
    permissions.require_or_404(request.user, "portal.use")
    raise Http404


@login_required
def order_detail(request, pk):
    permissions.require_or_404(request.user, "portal.use")
    raise Http404


@login_required
def order_confirm(request, pk):
    permissions.require_or_404(request.user, "portal.use")
    raise Http404


@login_required
def request_list(request):
    permissions.require_or_404(request.user, "portal.use")
    raise Http404


@login_required
def request_create(request):
    permissions.require_or_404(request.user, "portal.use")
    raise Http404


@login_required
def request_detail(request, pk):
    permissions.require_or_404(request.user, "portal.use")
    raise Http404


urlpatterns = [
    path("", home, name="home"),
    path("orders/<int:pk>/", order_detail, name="order_detail"),
    path("orders/<int:pk>/confirm/", order_confirm, name="order_confirm"),
    path("requests/", request_list, name="request_list"),
    path("requests/new/", request_create, name="request_create"),
    path("requests/<int:pk>/", request_detail, name="request_detail"),
]
