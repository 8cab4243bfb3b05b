"""Snapshot and replay of database rows: build expensive test state once through the services, then insert the
very same rows (same pks, hashes, signatures) inside each later test's rolled-back transaction."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

Rows = list[tuple[type[models.Model], list[dict[str, Any]]]]
Snapshot = dict[type[models.Model], dict[Any, dict[str, Any]]]


def all_models() -> list[type[models.Model]]:
    return list(apps.get_models(include_auto_created=True))


def rows_by_pk() -> Snapshot:
    return {model: {row[model._meta.pk.attname]: row for row in model._base_manager.values()} for model in all_models()}


def changes(before: Snapshot) -> tuple[Rows, Rows]:
    """Rows added since ``before``, and rows that existed and changed (e.g. a chain's head)."""
    added: Rows = []
    changed: Rows = []
    for model, rows in rows_by_pk().items():
        new = [row for pk, row in rows.items() if pk not in before[model]]
        moved = [row for pk, row in rows.items() if pk in before[model] and before[model][pk] != row]
        if new:
            added.append((model, new))
        if moved:
            changed.append((model, moved))
    return added, changed


def replay(added: Rows, changed: Rows) -> None:
    for model, rows in changed:
        pk = model._meta.pk.attname
        for row in rows:
            model._base_manager.filter(pk=row[pk]).update(**{k: v for k, v in row.items() if k != pk})
    for model, rows in added:
        model._base_manager.bulk_create([model(**row) for row in rows])
