"""The one append path of the ledger. Every domain service calls ``event_append`` inside its transaction.

Also: chain creation (genesis event carrying the hash algorithm and the unit's system public key),
signatures attached to events, and signed Merkle checkpoints (RFC 9162) over each chain.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jishi.core import crypto

from . import hashing, merkle, signing
from .models import Chain, Checkpoint, Event, Signature, SystemKey

SYSTEM_SIGNER = "system"


def _require_transaction(name: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{name} must be called inside the service's transaction")


# System keys -----------------------------------------------------------------------------------------


def _system_key_create(fonds: str) -> SystemKey:
    pair = signing.generate_keypair()
    return SystemKey.objects.create(
        fonds=fonds,
        key_id=signing.key_id(pair.public_key),
        public_key=pair.public_key.hex(),
        sealed_private_key=crypto.encrypt(base64.b64encode(pair.private_key).decode()),
    )


def _system_sign(fonds: str, message: bytes) -> tuple[str, str]:
    key = SystemKey.objects.get(fonds=fonds)
    private = base64.b64decode(crypto.decrypt(key.sealed_private_key))
    return key.key_id, signing.sign(private, message).hex()


# Chains ----------------------------------------------------------------------------------------------


def chain_create(*, fonds: str, algorithm: str = "sha256") -> Chain:
    """Create a fonds' chain with its genesis event (seq 1): the algorithm and the system public key."""
    _require_transaction("chain_create")
    if algorithm not in hashing.ALGORITHMS:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}")
    key = _system_key_create(fonds)
    every = settings.LEDGER_CHECKPOINT_EVERY
    Chain.objects.create(
        fonds=fonds, algorithm=algorithm, seq=0, head_hash=hashing.GENESIS_PREV, frontier=[], checkpoint_every=every
    )
    genesis = event_append(
        fonds=fonds,
        actor=None,
        action="chain.genesis",
        subject_type="chain",
        subject_id=fonds,
        payload={
            "algorithm": algorithm,
            "system_key": {"key_id": key.key_id, "public_key": key.public_key},
            # Declared here so a verifier can tell a deleted automatic checkpoint from one never made.
            "checkpoint_every": every,
        },
    )
    event_sign_system(event=genesis)
    return Chain.objects.get(fonds=fonds)


def chain_get_or_create(*, fonds: str, algorithm: str = "sha256") -> Chain:
    chain = Chain.objects.filter(fonds=fonds).first()
    return chain if chain is not None else chain_create(fonds=fonds, algorithm=algorithm)


def fonds_lock(*, fonds: str) -> Chain:
    """Lock the fonds' chain head for the rest of the transaction.

    Services that derive a sequential number (批次编号, 纪实表编号) take this lock first, so two clerks
    of one department never compute the same number; the event they append later reuses the lock.
    """
    _require_transaction("fonds_lock")
    chain_get_or_create(fonds=fonds)
    return Chain.objects.select_for_update().get(fonds=fonds)


def _frontier_append(frontier: list[str], size: int, leaf: bytes, algorithm: str) -> list[str]:
    """Add one leaf to the list of perfect-subtree roots (left to right) of a tree of ``size`` leaves."""
    stack = [bytes.fromhex(h) for h in frontier]
    node = merkle.leaf_hash(leaf, algorithm)
    while size & 1:
        node = merkle.node_hash(stack.pop(), node, algorithm)
        size >>= 1
    stack.append(node)
    return [h.hex() for h in stack]


def frontier_root(frontier: list[str], algorithm: str) -> bytes:
    if not frontier:
        return merkle.empty_root(algorithm)
    node = bytes.fromhex(frontier[-1])
    for left in reversed(frontier[:-1]):
        node = merkle.node_hash(bytes.fromhex(left), node, algorithm)
    return node


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
    _require_transaction("event_append")
    if action != "chain.genesis":
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
    frontier = _frontier_append(chain.frontier, chain.seq, bytes.fromhex(event_hash), chain.algorithm)
    Chain.objects.filter(pk=chain.pk).update(seq=event.seq, head_hash=event_hash, frontier=frontier)
    every = chain.checkpoint_every
    if every and event.seq % every == 0:
        chain.refresh_from_db()
        checkpoint_create(chain=chain)
    return event


# Signatures and checkpoints --------------------------------------------------------------------------


def signature_attach(*, event: Event, key_id: str, signer: str, role: str, signature: bytes) -> Signature:
    _require_transaction("signature_attach")
    return Signature.objects.create(
        event=event, key_id=key_id, signer=signer, role=role, signature=signature.hex(), created_at=timezone.now()
    )


def event_sign_system(*, event: Event) -> Signature:
    """The unit's system key signs an event (genesis, key enrolment and revocation)."""
    fonds = event.chain.fonds
    message = signing.event_signature_message(fonds=fonds, seq=event.seq, event_hash=event.hash, role=SYSTEM_SIGNER)
    key_id, sig = _system_sign(fonds, message)
    return signature_attach(
        event=event, key_id=key_id, signer=SYSTEM_SIGNER, role=SYSTEM_SIGNER, signature=bytes.fromhex(sig)
    )


def checkpoint_create(*, chain: Chain) -> Checkpoint:
    """Sign the current Merkle root of the chain (idempotent for an unchanged tree size)."""
    _require_transaction("checkpoint_create")
    existing = Checkpoint.objects.filter(chain=chain, tree_size=chain.seq).first()
    if existing:
        return existing
    root = frontier_root(chain.frontier, chain.algorithm).hex()
    timestamp = timezone.now().isoformat()
    message = signing.checkpoint_message(
        fonds=chain.fonds, tree_size=chain.seq, root_hex=root, timestamp=timestamp, algorithm=chain.algorithm
    )
    key_id, sig = _system_sign(chain.fonds, message)
    return Checkpoint.objects.create(
        chain=chain, tree_size=chain.seq, root=root, timestamp=timestamp, key_id=key_id, signature=sig
    )


def checkpoint_all() -> list[Checkpoint]:
    """One checkpoint per chain at its current size (the scheduled job)."""
    made = []
    for fonds in Chain.objects.values_list("fonds", flat=True):
        with transaction.atomic():
            chain = Chain.objects.select_for_update().get(fonds=fonds)
            if chain.seq:
                made.append(checkpoint_create(chain=chain))
    return made
