"""Rows buffered per Django model and written with PostgreSQL ``COPY`` (psycopg 3 ``cursor.copy``).

Columns come from the model's concrete fields, so a row only names what differs from the field default —
the same defaults ``Model.objects.create`` would fill in. JSON fields are dumped here (COPY text into jsonb).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import psycopg


class _Table:
    def __init__(self, model: Any) -> None:
        meta = model._meta
        self.name: str = meta.db_table
        self.fields = list(meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.json = {f.attname for f in self.fields if f.get_internal_type() == "JSONField"}
        self.defaults: dict[str, Any] = {}
        for f in self.fields:
            if f.attname in ("id",):
                continue
            if f.has_default():
                self.defaults[f.attname] = f.default  # a callable (dict, timezone.now) is called per row
            elif not f.has_default():
                self.defaults[f.attname] = None if f.null else ("" if f.empty_strings_allowed else None)
        self.rows: list[tuple[Any, ...]] = []

    def add(self, row: dict[str, Any]) -> None:
        values = []
        for name in self.attnames:
            if name in row:
                value = row[name]
            else:
                value = self.defaults.get(name)
                value = value() if callable(value) else value
            if name in self.json:
                value = json.dumps(value, ensure_ascii=False)
            values.append(value)
        self.rows.append(tuple(values))


class CopyBuffer:
    """Per-model row lists, flushed in the order the models were registered (parents before children)."""

    def __init__(self, models: Iterable[Any]) -> None:
        self.tables = {model: _Table(model) for model in models}
        self.written: dict[str, int] = {}

    def add(self, model: Any, **row: Any) -> None:
        self.tables[model].add(row)

    def pending(self, model: Any) -> int:
        return len(self.tables[model].rows)

    def flush(self, conn: psycopg.Connection[Any]) -> None:
        with conn.cursor() as cur:
            for table in self.tables.values():
                if not table.rows:
                    continue
                columns = ", ".join(f'"{c}"' for c in table.columns)
                with cur.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                    for row in table.rows:
                        copy.write_row(row)
                self.written[table.name] = self.written.get(table.name, 0) + len(table.rows)
                table.rows.clear()
