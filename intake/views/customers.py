"""(stubs: replaced by the full module; URL names and paths are fixed)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path

from labqms import permissions


@login_required
def customer_list(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def customer_create(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def customer_detail(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def customer_edit(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def contact_add(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def category_list(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def category_create(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def category_edit(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def scope_add(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def scope_end(request, pk):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


@login_required
def turnaround(request):
    permissions.require_or_404(request.user, "intake.view")
    raise Http404


urlpatterns = [
    path("customers/", customer_list, name="customer_list"),
    path("customers/new/", customer_create, name="customer_create"),
    path("customers/<int:pk>/", customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", customer_edit, name="customer_edit"),
    path("customers/<int:pk>/contacts/add/", contact_add, name="contact_add"),
    path("categories/", category_list, name="category_list"),
    path("categories/new/", category_create, name="category_create"),
    path("categories/<int:pk>/edit/", category_edit, name="category_edit"),
    path("categories/<int:pk>/scope/add/", scope_add, name="scope_add"),
    path("scope/<int:pk>/end/", scope_end, name="scope_end"),
    path("turnaround/", turnaround, name="turnaround"),
]
