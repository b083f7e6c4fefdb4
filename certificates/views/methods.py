"""Methods with editions and record templates (technical lead; everyone with
records.view may read).  STUB — being built."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from labqms import permissions


@login_required
def stub(request, *args, **kwargs):
    permissions.require_or_404(request.user, "records.view")
    return HttpResponse("todo")


urlpatterns = [
    path("methods/", stub, name="method_list"),
    path("methods/new/", stub, name="method_create"),
    path("methods/<int:pk>/", stub, name="method_detail"),
    path("methods/<int:pk>/edit/", stub, name="method_edit"),
    path("methods/<int:pk>/approve/", stub, name="method_approve"),
    path("methods/<int:pk>/withdraw/", stub, name="method_withdraw"),
    path("methods/<int:pk>/templates/new/", stub, name="template_create"),
    path("templates/<int:pk>/", stub, name="template_detail"),
    path("templates/<int:pk>/edit/", stub, name="template_edit"),
    path("templates/<int:pk>/approve/", stub, name="template_approve"),
    path("templates/<int:pk>/new-version/", stub, name="template_new_version"),
]
