"""Complaints URLs (namespace ``complaints``): staff pages, the public form, the portal."""

from complaints.views import portal, public, staff

urlpatterns = staff.urlpatterns + public.urlpatterns + portal.urlpatterns
