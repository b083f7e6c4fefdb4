"""The order's history reads in words, not raw keys (an assessor reads it, R-INT-3/4)."""

import pytest
from django.utils import translation

from labqms import audit
from tests.intake.conftest import line


@pytest.mark.django_db
def test_order_history_labels_derived_changes(make_order, categories):
    order = make_order([line(categories["bp"], "BP-1")], stage="accepted")
    with translation.override("en"):
        rows = [
            tuple(str(part) for part in row)
            for event in audit.events_for(order)
            for row in event.changes_display
        ]
    labels = {label for label, _old, _new in rows}
    assert {"lines", "review decision", "samples", "due date", "status"} <= labels
    decision = next(new for label, _old, new in rows if label == "review decision")
    assert decision == "Accept"


@pytest.mark.django_db
def test_printed_draft_order_shows_the_due_date_if_accepted_today(make_order, categories):
    """R-INT-3/R-INT-5: the customer signs an order that states when it will be done."""
    from intake.services.orders import due_date_for
    from intake.views.order_actions import full_order, order_document_context

    order = make_order([line(categories["pump"], "P-1")], stage="reviewed")
    context = order_document_context(full_order(order.pk))
    from django.utils import timezone

    assert context["expected_due"] == due_date_for(order, timezone.localdate())
