import pytest

from intake.models import OrderStatus, SampleStatus
from tests.intake.conftest import line


@pytest.mark.django_db
def test_fixtures_build_an_accepted_order_with_stored_sample(received_sample, categories, make_order):
    assert received_sample.status == SampleStatus.STORED
    assert received_sample.order.status == OrderStatus.ACCEPTED
    draft = make_order([line(categories["pump"], "P1, P2", quantity=2)], stage="draft")
    assert draft.items.get().service == "calibration"
