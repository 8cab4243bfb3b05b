"""One fonds' hash chain built in memory, exactly as ``ledger.services.event_append`` would build it.

Same event body and hash (``hashing``), same Merkle frontier (RFC 9162) kept in the ``Chain`` row, an automatic
checkpoint signed by the unit's system key every ``checkpoint_every`` events, and signatures over
``signing.event_signature_message`` — but no row lock, no ORM, no round trip per event: the rows go to a
``CopyBuffer``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jishi.ledger import hashing, signing
from jishi.ledger.models import Checkpoint, Event, Signature

from .dataset_copy import CopyBuffer

SYSTEM_LABEL = "系统"
CHECK_EVERY = 500


@functools.lru_cache(maxsize=4096)
def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


SYSTEM_SIGNER = "system"


def _leaf(event_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(event_hash_hex)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class ChainBuilder:
    def __init__(
        self, *, fonds: str, chain_id: int, id_base: int, system_key: Ed25519PrivateKey, checkpoint_every: int
    ) -> None:
        self.fonds = fonds
        self.chain_id = chain_id
        self.system_key = system_key
        self.system_key_id = signing.key_id(system_key.public_key().public_bytes_raw())
        self.every = checkpoint_every
        self.seq = 0
        self.head = hashing.GENESIS_PREV
        self.stack: list[bytes] = []  # Merkle frontier: roots of the perfect subtrees, left to right
        self.next_event_id = id_base
        self.next_signature_id = id_base
        self.next_checkpoint_id = id_base
        self.last_at: dt.datetime | None = None
        self.counts = {"events": 0, "signatures": 0, "checkpoints": 0}

    def append(
        self,
        buf: CopyBuffer,
        *,
        at: dt.datetime,
        actor_id: int | None,
        actor_label: str,
        action: str,
        subject_type: str,
        subject_id: int | str,
        payload: dict[str, Any],
    ) -> tuple[int, int, str]:
        """Add one event; returns (event id, seq, hash)."""
        if self.last_at is not None and at < self.last_at:
            raise ValueError(f"{self.fonds}: event time goes backwards ({at} < {self.last_at})")
        self.last_at = at
        seq = self.seq + 1
        recorded_at = at.isoformat()
        text = hashing.canonical_json(payload)
        # The body's canonical JSON spliced around the payload's (keys in sorted order), so each payload is
        # encoded once; every CHECK_EVERY-th event is compared with hashing.event_body/event_hash.
        body_text = (
            f'{{"action":{_s(action)},"actor":{_s(actor_label)},"at":{_s(recorded_at)},"fonds":{_s(self.fonds)},'
            f'"payload":{text},"prev":"{self.head}","seq":{seq},"subject":[{_s(subject_type)},{_s(str(subject_id))}]}}'
        )
        event_hash = hashlib.sha256(body_text.encode()).hexdigest()
        if seq % CHECK_EVERY == 1:
            body = hashing.event_body(
                fonds=self.fonds,
                seq=seq,
                prev_hash=self.head,
                recorded_at=recorded_at,
                actor=actor_label,
                action=action,
                subject_type=subject_type,
                subject_id=str(subject_id),
                payload=json.loads(text),
            )
            if hashing.event_hash(body) != event_hash:
                raise AssertionError(f"{self.fonds}#{seq}: spliced event body differs from hashing.event_body")
        event_id = self.next_event_id
        self.next_event_id += 1
        buf.add(
            Event,
            id=event_id,
            chain_id=self.chain_id,
            seq=seq,
            prev_hash=self.head,
            hash=event_hash,
            recorded_at=at,
            actor_id=actor_id,
            actor_name=actor_label,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            payload=text,
        )
        # Frontier update (services._frontier_append): one merge per trailing one bit of the old size.
        node, size = _leaf(event_hash), self.seq
        while size & 1:
            node = _node(self.stack.pop(), node)
            size >>= 1
        self.stack.append(node)
        self.seq, self.head = seq, event_hash
        self.counts["events"] += 1
        if self.every and seq % self.every == 0:
            self._checkpoint(buf, at)
        return event_id, seq, event_hash

    def root(self) -> bytes:
        node = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            node = _node(left, node)
        return node

    def frontier(self) -> list[str]:
        return [h.hex() for h in self.stack]

    def _checkpoint(self, buf: CopyBuffer, at: dt.datetime) -> None:
        root = self.root().hex()
        timestamp = at.isoformat()
        message = signing.checkpoint_message(
            fonds=self.fonds, tree_size=self.seq, root_hex=root, timestamp=timestamp, algorithm="sha256"
        )
        buf.add(
            Checkpoint,
            id=self.next_checkpoint_id,
            chain_id=self.chain_id,
            tree_size=self.seq,
            root=root,
            timestamp=timestamp,
            key_id=self.system_key_id,
            signature=self.system_key.sign(message).hex(),
        )
        self.next_checkpoint_id += 1
        self.counts["checkpoints"] += 1

    def sign(
        self,
        buf: CopyBuffer,
        *,
        event_id: int,
        seq: int,
        event_hash: str,
        key: Ed25519PrivateKey,
        key_id: str,
        signer: str,
        role: str,
        at: dt.datetime,
    ) -> None:
        message = signing.event_signature_message(fonds=self.fonds, seq=seq, event_hash=event_hash, role=role)
        buf.add(
            Signature,
            id=self.next_signature_id,
            event_id=event_id,
            key_id=key_id,
            signer=signer,
            role=role,
            signature=key.sign(message).hex(),
            created_at=at,
        )
        self.next_signature_id += 1
        self.counts["signatures"] += 1

    def sign_system(self, buf: CopyBuffer, *, event_id: int, seq: int, event_hash: str, at: dt.datetime) -> None:
        self.sign(
            buf,
            event_id=event_id,
            seq=seq,
            event_hash=event_hash,
            key=self.system_key,
            key_id=self.system_key_id,
            signer=SYSTEM_SIGNER,
            role=SYSTEM_SIGNER,
            at=at,
        )
