"""The counter's work queues on the home page (R-MGT-4): orders to review, online
requests waiting, samples to receive, orders ready for release and orders at risk.

Each count is taken from the queryset its linked list shows (``intake.selectors``) or
with the very filter the list applies for the link's query string; see
``labqms.dashboard``."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from intake import selectors
from intake.models import OnlineRequest, Order, OrderStatus, RequestStatus, Sample, SampleStatus
from labqms.dashboard import Queue, link

# The list pages need intake.view; the work is the counter's (receiving orders and samples,
# releasing them), so the queues show to whoever may receive orders.
ACTIONS = ("intake.view", "intake.receive_order")


def queues(user, today: date, *, allowed) -> list[Queue]:
    if not (allowed["intake.view"] and allowed["intake.receive_order"]):
        return []
    drafts = Order.objects.filter(status=OrderStatus.DRAFT).count()
    at_risk = selectors.at_risk(today).count()
    ready = selectors.ready_for_release().count()
    registered = Sample.objects.filter(status=SampleStatus.REGISTERED).count()
    waiting = OnlineRequest.objects.filter(status=RequestStatus.SUBMITTED).count()
    return [
        Queue(
            key="intake.at_risk",
            label=_("Orders at risk"),
            count=at_risk,
            url=link("intake:at_risk_queue"),
            level="danger",
            hint=_("Due within %(days)d working days or overdue, not complete")
            % {"days": selectors.AT_RISK_WORKING_DAYS},
        ),
        Queue(
            key="intake.orders_to_review",
            label=_("Orders to review"),
            count=drafts,
            url=link("intake:order_list", status=OrderStatus.DRAFT),
            level="warning",
            hint=_("Draft orders waiting for contract review"),
        ),
        Queue(
            key="intake.requests_waiting",
            label=_("Online requests waiting"),
            count=waiting,
            url=link("intake:request_list", status=RequestStatus.SUBMITTED),
            level="warning",
        ),
        Queue(
            key="intake.samples_to_receive",
            label=_("Samples to receive"),
            count=registered,
            url=link("intake:sample_list", status=SampleStatus.REGISTERED),
            level="info",
            hint=_("Registered, not yet received"),
        ),
        Queue(
            key="intake.ready_for_release",
            label=_("Ready for release"),
            count=ready,
            url=link("intake:ready_queue"),
            level="info",
            hint=_("Orders with samples ready to hand over"),
        ),
    ]
