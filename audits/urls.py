"""Audits URLs (namespace ``audits``): programme and audits, findings and actions,
management review and objectives, surveys and evaluation reports."""

from audits.views import findings, programme, review, surveys

urlpatterns = programme.urlpatterns + findings.urlpatterns + review.urlpatterns + surveys.urlpatterns
