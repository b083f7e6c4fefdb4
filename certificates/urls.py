"""Records URLs (namespace ``certificates``); [Certificates] adds its own modules."""

from certificates.views import archive, methods, records, tasks

urlpatterns = methods.urlpatterns + tasks.urlpatterns + archive.urlpatterns + records.urlpatterns
