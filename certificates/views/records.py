"""The original record: entry (tablet-friendly, on site too), the read view with
corrections struck through, signatures and corrections.  STUB."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from labqms import permissions


@login_required
def stub(request, *args, **kwargs):
    permissions.require_or_404(request.user, "records.view")
    return HttpResponse("todo")


urlpatterns = [
    path("records/<int:pk>/", stub, name="record_detail"),
    path("records/<int:pk>/entry/", stub, name="record_entry"),
    path("records/<int:pk>/environment/", stub, name="record_environment"),
    path("records/<int:pk>/equipment/", stub, name="record_equipment_add"),
    path("records/<int:pk>/equipment/<int:entry>/remove/", stub, name="record_equipment_remove"),
    path("records/<int:pk>/readings/", stub, name="record_readings"),
    path("records/<int:pk>/uncertainty/", stub, name="record_uncertainty"),
    path("records/<int:pk>/inspections/", stub, name="record_inspections"),
    path("records/<int:pk>/conclusion/", stub, name="record_conclusion"),
    path("records/<int:pk>/sign/", stub, name="record_sign"),
    path("records/<int:pk>/check/", stub, name="record_check"),
    path("records/<int:pk>/return/", stub, name="record_return"),
    path("records/<int:pk>/correct/", stub, name="record_correct"),
]
