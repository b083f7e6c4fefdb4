"""(being built)"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from labqms import permissions

urlpatterns = []
