"""Records URLs (namespace ``certificates``); [Certificates] adds its own modules."""

from certificates.views import archive, certificates, methods, portal, public, records, seals, tasks

urlpatterns = (
    public.urlpatterns + methods.urlpatterns + tasks.urlpatterns + archive.urlpatterns + records.urlpatterns
    + certificates.urlpatterns + seals.urlpatterns + portal.urlpatterns
)
