"""Gap-free yearly number sequences: WT2026-000123 and friends.

:func:`next_number` must be called inside the transaction that stores the numbered
object.  It locks the sequence row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite takes
its single write lock at BEGIN), so concurrent callers queue, and a transaction that
rolls back also rolls back its increment: numbers never repeat and never skip.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from labqms.models import NumberSequence

# sequence key -> format; ``year`` and ``seq`` are filled in.
FORMATS: dict[str, str] = {
    "order": "WT{year}-{seq:06d}",
    "sample": "YP{year}-{seq:06d}",
    "record": "JL{year}-{seq:06d}",
    # certificates and notices, one sequence per type (R-CRT-1)
    "cert_verification": "JD{year}-{seq:06d}",
    "cert_notice": "TZ{year}-{seq:06d}",
    "cert_calibration": "JZ{year}-{seq:06d}",
    "cert_test": "JC{year}-{seq:06d}",
    "complaint": "TS{year}-{seq:04d}",
    "audit": "NS{year}-{seq:02d}",
    "finding": "BF{year}-{seq:03d}",
    "review": "PS{year}-{seq:02d}",
}
DEFAULT_FORMAT = "{key}{year}-{seq:06d}"


def format_number(key: str, year: int, seq: int) -> str:
    return FORMATS.get(key, DEFAULT_FORMAT).format(key=key.upper(), year=year, seq=seq)


def allocate(key: str, *, year: int | None = None) -> tuple[int, int]:
    """Take the next value of ``key`` for ``year``; returns ``(year, value)``."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Numbers must be taken inside the transaction that uses them.")
    year = year or timezone.localdate().year
    sequence = NumberSequence.objects.select_for_update().filter(key=key, year=year).first()
    if sequence is None:
        # First number of the year: two callers may race to create the row. The loser's
        # INSERT fails inside its savepoint, and it then locks the winner's row.
        try:
            with transaction.atomic():
                NumberSequence.objects.create(key=key, year=year, last_value=0)
        except IntegrityError:
            pass
        sequence = NumberSequence.objects.select_for_update().get(key=key, year=year)
    NumberSequence.objects.filter(pk=sequence.pk).update(last_value=F("last_value") + 1)
    sequence.refresh_from_db(fields=["last_value"])
    return year, sequence.last_value


def next_number(key: str, *, year: int | None = None) -> str:
    """The next formatted number of ``key``, e.g. ``next_number("order") -> "WT2026-000124"``."""
    year, value = allocate(key, year=year)
    return format_number(key, year, value)
