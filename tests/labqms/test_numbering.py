"""Gap-free yearly numbers (DESIGN: Integrity; R-INT-3 order numbers)."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from labqms import numbering
from labqms.models import NumberSequence


@pytest.mark.django_db
def test_numbers_are_formatted_per_sequence_and_year():
    with transaction.atomic():
        first = numbering.next_number("order", year=2026)
        second = numbering.next_number("order", year=2026)
        other_year = numbering.next_number("order", year=2027)
        cert = numbering.next_number("cal_cert", year=2026)
    assert (first, second, other_year) == ("WT2026-000001", "WT2026-000002", "WT2027-000001")
    assert cert == "CAL_CERT2026-000001"


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back():
    with transaction.atomic():
        assert numbering.next_number("order", year=2026) == "WT2026-000001"
    with pytest.raises(RuntimeError), transaction.atomic():
        numbering.next_number("order", year=2026)
        raise RuntimeError("the order failed to save")
    with transaction.atomic():
        assert numbering.next_number("order", year=2026) == "WT2026-000002"


@pytest.mark.django_db(transaction=True)
def test_numbers_outside_a_transaction_are_refused():
    with pytest.raises(RuntimeError):
        numbering.next_number("order")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_get_unique_gap_free_numbers():
    """20 threads × 10 numbers each on PostgreSQL: 200 distinct numbers 1..200, and the
    sequence row was created by exactly one of the racing first callers."""
    threads, per_thread = 20, 10
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                with transaction.atomic():
                    _year, value = numbering.allocate("order", year=2031)
                with lock:
                    results.append(value)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    assert sorted(results) == list(range(1, threads * per_thread + 1))
    assert NumberSequence.objects.get(key="order", year=2031).last_value == threads * per_thread
