"""(being built: replaced by the full module)"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path

from labqms import permissions


@login_required
def home(request):
    permissions.require_or_404(request.user, "portal.use")
    return HttpResponse("")


urlpatterns = [path("", home, name="home")]
