"""Audits URLs (namespace ``audits``): programme and audits, findings and actions,
management review and objectives, surveys and evaluation reports, business statistics."""

from audits.views import findings, programme, review, statistics, surveys

urlpatterns = (
    programme.urlpatterns + findings.urlpatterns + review.urlpatterns + surveys.urlpatterns + statistics.urlpatterns
)
