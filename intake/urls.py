"""Intake URLs (namespace ``intake``) and the customer portal (namespace ``portal``)."""

from intake.views import customers, order_actions, orders, portal, samples

urlpatterns = customers.urlpatterns + orders.urlpatterns + order_actions.urlpatterns + samples.urlpatterns
portal_urlpatterns = portal.urlpatterns
