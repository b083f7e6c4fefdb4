"""(being built: replaced by the full module)"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from labqms import permissions


@login_required
def customer_list(request):
    permissions.require_or_404(request.user, "intake.view")
    return HttpResponse("")


urlpatterns = [path("customers/", customer_list, name="customer_list")]
