"""Chain verification core — no Django imports, so an exported package can be checked anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import hashing


@dataclass(frozen=True)
class EventRow:
    fonds: str
    seq: int
    prev_hash: str
    hash: str
    recorded_at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: str


@dataclass(frozen=True)
class Break:
    fonds: str
    seq: int
    what: str

    def __str__(self) -> str:
        return f"全宗 {self.fonds} 第 {self.seq} 号事件：{self.what}"


def verify_chain(rows: Iterable[EventRow], algorithm: str = "sha256") -> Break | None:
    """Return the first broken place in one chain's events (in seq order), or None."""
    expected_prev = hashing.GENESIS_PREV
    expected_seq = 1
    fonds = ""
    for row in rows:
        fonds = row.fonds
        if row.seq != expected_seq:
            return Break(fonds, row.seq, f"序号不连续，应为 {expected_seq}")
        if row.prev_hash != expected_prev:
            return Break(fonds, row.seq, "前一事件哈希不符")
        payload: Any = json.loads(row.payload)
        body = hashing.event_body(
            fonds=row.fonds,
            seq=row.seq,
            prev_hash=row.prev_hash,
            recorded_at=row.recorded_at,
            actor=row.actor,
            action=row.action,
            subject_type=row.subject_type,
            subject_id=row.subject_id,
            payload=payload,
        )
        if hashing.event_hash(body, algorithm) != row.hash:
            return Break(fonds, row.seq, "事件内容与哈希不符（记录被改动）")
        expected_prev = row.hash
        expected_seq += 1
    return None
