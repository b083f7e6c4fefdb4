"""Synthetic data at scale (``manage.py scale_data``): orders → samples → tasks → records
→ certificates over several years, equipment, complaints and corrective actions, written
with bulk inserts (PostgreSQL ``COPY``; plain multi-row INSERTs elsewhere).

Every row is written in its final state, as the services would have left it: each
sample's story is a timeline (received, task assigned, record started, signed, checked,
certificate approved and issued, integrity check, release) cut at *now*, so recent orders
are still in the queues and old ones are released.  Numbers follow
``labqms.numbering.FORMATS`` and the number sequences are advanced in the transaction
that writes the numbers, so a real number taken afterwards never repeats one; ids are
assigned here and the tables' id sequences moved past them the same way.  Small runs
commit batch by batch; a large run on PostgreSQL is one transaction that rebuilds the
constraints and indexes at the end (``writer.BulkLoad``).

Modules: ``writer`` (COPY, sequences), ``calendar`` (working days), ``reference`` (staff,
catalogue, methods, customers, seals), ``work`` (orders → certificates), ``quality``
(equipment, complaints, corrective actions).

Nothing goes through the PostgreSQL immutability triggers the wrong way: issued
certificates and append-only rows are only inserted; a record is inserted signed, its
check round appended, and only then marked checked (the trigger's own rule).
"""


from audits.scale.calendar import Calendar
from audits.scale.quality import actions, complaints, equipment
from audits.scale.reference import SCALE_PREFIX, STAFF, Reference, placeholder_pdf
from audits.scale.work import Work
from audits.scale.writer import Writer

__all__ = [
    "SCALE_PREFIX", "STAFF", "Calendar", "Reference", "Work", "Writer", "actions", "complaints", "equipment",
    "placeholder_pdf",
]
