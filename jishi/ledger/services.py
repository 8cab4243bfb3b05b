"""The one append path of the ledger. Every domain service calls ``event_append`` inside its transaction."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import hashing
from .models import Chain, Event


def chain_get_or_create(*, fonds: str, algorithm: str = "sha256") -> Chain:
    chain, _ = Chain.objects.get_or_create(
        fonds=fonds, defaults={"algorithm": algorithm, "seq": 0, "head_hash": hashing.GENESIS_PREV}
    )
    return chain


def fonds_lock(*, fonds: str) -> Chain:
    """Lock the fonds' chain head for the rest of the transaction.

    Services that derive a sequential number (批次编号, 纪实表编号) take this lock first, so two clerks
    of one department never compute the same number; the event they append later reuses the lock.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("fonds_lock must be called inside the service's transaction")
    chain_get_or_create(fonds=fonds)
    return Chain.objects.select_for_update().get(fonds=fonds)


def event_append(
    *,
    fonds: str,
    actor: Any,
    action: str,
    subject_type: str,
    subject_id: str | int,
    payload: dict[str, Any],
) -> Event:
    """Append one event to the fonds' chain. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_append must be called inside the service's transaction")
    chain_get_or_create(fonds=fonds)
    # Lock the head row: on PostgreSQL concurrent appenders to one fonds queue here, other fonds
    # proceed; on SQLite the IMMEDIATE transaction already holds the database write lock.
    chain = Chain.objects.select_for_update().get(fonds=fonds)
    now = timezone.now()
    # Round-trip through JSON so dates, Decimals etc. are rejected here, not at verify time.
    clean_payload = json.loads(hashing.canonical_json(payload))
    actor_label = f"{actor.get_full_name() or actor.username}({actor.username})" if actor else "系统"
    body = hashing.event_body(
        fonds=fonds,
        seq=chain.seq + 1,
        prev_hash=chain.head_hash,
        recorded_at=now.isoformat(),
        actor=actor_label,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=clean_payload,
    )
    event_hash = hashing.event_hash(body, chain.algorithm)
    event = Event.objects.create(
        chain=chain,
        seq=chain.seq + 1,
        prev_hash=chain.head_hash,
        hash=event_hash,
        recorded_at=now,
        actor=actor,
        actor_name=actor_label,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        payload=hashing.canonical_json(clean_payload),
    )
    Chain.objects.filter(pk=chain.pk).update(seq=event.seq, head_hash=event_hash)
    return event
