"""Equipment URLs (namespace ``equipment``)."""

from equipment.views import detail, monitoring, register

urlpatterns = register.urlpatterns + monitoring.urlpatterns + detail.urlpatterns
