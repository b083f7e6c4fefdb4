from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from audits import urls as audits_urls
from certificates import urls as certificates_urls
from complaints import urls as complaints_urls
from equipment import urls as equipment_urls
from intake import urls as intake_urls
from labqms.views import calendar, home, notifications, people

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", home.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("people/", include((people.urlpatterns, "people"))),
    path("calendar/", include((calendar.urlpatterns, "calendar"))),
    path("notifications/", include((notifications.urlpatterns, "notifications"))),
    path("intake/", include((intake_urls.urlpatterns, "intake"))),
    path("portal/", include((intake_urls.portal_urlpatterns, "portal"))),
    path("equipment/", include((equipment_urls.urlpatterns, "equipment"))),
    path("", include((certificates_urls.urlpatterns, "certificates"))),
    path("", include((complaints_urls.urlpatterns, "complaints"))),
    path("", include((audits_urls.urlpatterns, "audits"))),
    path("admin/", admin.site.urls),
]

# Uploaded files (calibration certificates, attachments) are lab records: they are never
# served from a public /media URL, only through views that check permissions.
