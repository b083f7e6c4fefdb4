"""Writing generated rows fast: PostgreSQL ``COPY`` (plain INSERTs elsewhere), ids given
here, and the number and id sequences moved past what was written in the same
transaction."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max

from labqms.models import NumberSequence
from labqms.numbering import format_number

# --- writing rows ---------------------------------------------------------------------------

_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_ESC)
        return value
    if value is None:
        return "\\N"
    if kind is int:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.datetime or kind is dt.date or kind is Decimal:
        return str(value)
    if kind is dict or kind is list:
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        value = str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESC)
    return value


class Sink:
    """Rows of one model waiting to be written.  ``names`` are the attnames each row
    gives, in order; every other column takes the field's default (a field written
    automatically — ``auto_now`` and friends — must be given: dates are explicit)."""

    def __init__(self, model, names: list[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        given = [fields[n] for n in names]
        rest = [f for f in model._meta.concrete_fields if f.attname not in names]
        for field in rest:
            if field.primary_key or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                raise ValueError(f"{model.__name__}.{field.attname} must be given explicitly")
            if not (field.has_default() or field.null or (field.blank and field.empty_strings_allowed)):
                raise ValueError(f"{model.__name__}.{field.attname} has no default")
        self.model = model
        self.fields = given + rest
        self.table = model._meta.db_table
        self.columns = [f.column for f in self.fields]
        self.tail = tuple(f.get_default() for f in rest)
        self.tail_text = "".join("\t" + _copy_text(v) for v in self.tail)
        self.rows: list[tuple] = []
        # Ids are given here (the rows refer to each other before they are written); read
        # now, before a bulk load locks the table.
        self._next_id = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.first_id = self._next_id

    def add(self, *values) -> None:
        self.rows.append(values)

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def copy_sql(self) -> str:
        return f"COPY {self.table} ({', '.join(connection.ops.quote_name(c) for c in self.columns)}) FROM STDIN"

    def copy_text(self, rows) -> io.StringIO:
        tail = self.tail_text
        buffer = io.StringIO("".join("\t".join(map(_copy_text, row)) + tail + "\n" for row in rows))
        return buffer

    def insert(self, cursor, rows) -> None:
        """The rows as INSERTs through Django's connection (SQLite and small runs)."""
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        prep = [f.get_db_prep_save for f in self.fields]
        values = [
            tuple(p(json.loads(v) if type(v) is RawJSON else v, connection) for p, v in zip(prep, row + self.tail, strict=True))
            for row in rows
        ]
        marks = ", ".join(["%s"] * len(self.columns))
        cursor.executemany(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", values)


class Writer:
    """All sinks of a run.  :meth:`commit` hands the rows of a batch over; without
    ``bulk`` each batch is its own transaction that also moves the id and number
    sequences (so the database is consistent after every batch).  With ``bulk``
    (PostgreSQL) a :class:`BulkLoad` thread writes everything in one transaction while
    the next batch is generated."""

    def __init__(self, *, bulk: bool = False):
        self.sinks: list[Sink] = []
        self.numbers: dict[tuple[str, int], int] = {
            (s.key, s.year): s.last_value for s in NumberSequence.objects.all()
        }
        self.touched: set[tuple[str, int]] = set()
        self.after: list = []  # (sql, params) to run after the rows, in the same transaction
        self.started = time.monotonic()
        self.rows_total = 0
        self.seconds: dict[str, float] = {}  # time spent writing each table
        self.bulk = BulkLoad(self) if bulk else None

    def sink(self, model, names) -> Sink:
        sink = Sink(model, names)
        self.sinks.append(sink)
        return sink

    def number(self, key: str, year: int) -> str:
        value = self.numbers.get((key, year), 0) + 1
        self.numbers[(key, year)] = value
        self.touched.add((key, year))
        return format_number(key, year, value)

    def commit(self) -> int:
        batch = [(sink, sink.rows) for sink in self.sinks if sink.rows]
        for sink in self.sinks:
            sink.rows = []
        after, self.after = self.after, []
        written = sum(len(rows) for _sink, rows in batch)
        self.rows_total += written
        if self.bulk is not None:
            self.bulk.put(batch, after)
            return written
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL synchronous_commit = off")
            for sink, rows in batch:
                began = time.monotonic()
                if connection.vendor == "postgresql":
                    cursor.cursor.copy_expert(sink.copy_sql(), sink.copy_text(rows))
                else:
                    sink.insert(cursor, rows)
                self.seconds[sink.table] = self.seconds.get(sink.table, 0) + time.monotonic() - began
            for sql, params in after:
                cursor.execute(sql, params)
            for sql, params in self.sequence_sql():
                cursor.execute(sql, params)
        return written

    def finish(self) -> None:
        if self.bulk is not None:
            self.bulk.finish()

    def sequence_sql(self) -> list[tuple[str, list]]:
        """Number sequences (never lowered) and id sequences moved past what was written."""
        statements = []
        for key, year in sorted(self.touched):
            greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
            statements.append((
                f"INSERT INTO {NumberSequence._meta.db_table} (key, year, last_value) VALUES (%s, %s, %s) "
                f"ON CONFLICT (key, year) DO UPDATE SET last_value = {greatest}(EXCLUDED.last_value, "
                f"{NumberSequence._meta.db_table}.last_value)",
                [key, year, self.numbers[(key, year)]],
            ))
        self.touched.clear()
        if connection.vendor == "postgresql":  # SQLite's AUTOINCREMENT follows explicit ids by itself
            for sink in self.sinks:
                if sink._next_id > sink.first_id:
                    statements.append((
                        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST(%s, (SELECT COALESCE(MAX(id), 1) FROM "
                        f"{connection.ops.quote_name(sink.table)})))",
                        [sink.table, sink._next_id - 1],
                    ))
        return statements

    def rate(self) -> str:
        seconds = max(time.monotonic() - self.started, 0.001)
        return f"{self.rows_total:,} rows in {seconds:,.0f} s ({self.rows_total / seconds:,.0f} rows/s)"


class BulkLoad:
    """One PostgreSQL transaction for the whole run, in a thread of its own (its own
    connection), so generating the next batch overlaps with writing this one.

    On the first batch of a table its unique and foreign-key constraints and secondary
    indexes are dropped; at the end they are created again — which checks every row
    once, instead of one index probe per row and constraint — and the number and id
    sequences are moved, all before the single COMMIT.  A failure rolls everything back,
    constraints included.  Indexes a trigger reads during the load stay.
    """

    KEEP = {"certificates_recordcheck": ("record_id",)}

    def __init__(self, writer: Writer):
        import queue
        import threading

        self.writer = writer
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.prepared: dict[str, list[str]] = {}
        self.thread = threading.Thread(target=self._run, name="scale-bulk-load", daemon=True)
        self.thread.start()

    def put(self, batch, after) -> None:
        if self.error is not None:
            raise RuntimeError("bulk load failed") from self.error
        self.queue.put((batch, after))

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError("bulk load failed") from self.error

    def _run(self) -> None:
        raw = connection.get_new_connection(connection.get_connection_params())
        try:
            with raw.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET maintenance_work_mem = '512MB'")
                # Issued content is ~2 kB: compressed with lz4 rather than pglz, much faster to write.
                cursor.execute("SET default_toast_compression = 'lz4'")
                while (item := self.queue.get()) is not None:
                    batch, after = item
                    for sink, rows in batch:
                        began = time.monotonic()
                        if sink.table not in self.prepared:
                            self.prepared[sink.table] = self._drop(cursor, sink.table)
                        cursor.copy_expert(sink.copy_sql(), sink.copy_text(rows))
                        self._time(sink.table, began)
                    for sql, params in after:
                        began = time.monotonic()
                        cursor.execute(sql, params)
                        self._time("(after)", began)
                began = time.monotonic()
                for table, statements in self.prepared.items():
                    for sql in statements:
                        cursor.execute(sql)
                    self._time(f"(constraints {table})", began)
                    began = time.monotonic()
                for sql, params in self.writer.sequence_sql():
                    cursor.execute(sql, params)
            raw.commit()
        except BaseException as error:  # noqa: BLE001 - handed to the generating thread
            raw.rollback()
            self.error = error
            while self.queue.get() is not None:  # let the generator finish its put()s
                pass
        finally:
            raw.close()

    def _time(self, key: str, began: float) -> None:
        self.writer.seconds[key] = self.writer.seconds.get(key, 0) + time.monotonic() - began

    def _drop(self, cursor, table: str) -> list[str]:
        """Drop ``table``'s constraints (but the primary key and checks) and secondary
        indexes; return the statements that put them back."""
        keep = self.KEEP.get(table, ())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')", [table])
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
            "ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [table])
        indexes = [(name, sql) for name, sql, cols in cursor.fetchall() if tuple(cols) != keep]
        quoted = connection.ops.quote_name(table)
        restore = [sql for _name, sql in indexes]
        restore += [f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(n)} {d}"
                    for n, d, kind in sorted(constraints, key=lambda c: c[2] != "u")]
        for name, _definition, _kind in constraints:
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {name}")
        return restore


class RawJSON(str):
    """JSON text made here (faster than a dict per row); parsed back where the database
    is not PostgreSQL."""
