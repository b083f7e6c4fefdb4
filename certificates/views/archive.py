"""The records list (search, filters, paging), the printable record PDF and disposal
after the retention period (R-REC-4).  STUB."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from labqms import permissions


@login_required
def stub(request, *args, **kwargs):
    permissions.require_or_404(request.user, "records.view")
    return HttpResponse("todo")


urlpatterns = [
    path("records/", stub, name="record_list"),
    path("records/<int:pk>/pdf/", stub, name="record_pdf"),
    path("records/<int:pk>/dispose/", stub, name="record_dispose"),
]
