"""Records URLs (namespace ``certificates``); [Certificates] adds its own modules."""

from certificates.views import archive, methods, public, records, tasks

urlpatterns = public.urlpatterns + methods.urlpatterns + tasks.urlpatterns + archive.urlpatterns + records.urlpatterns
