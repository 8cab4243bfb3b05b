"""Canonical encoding and event hashing — standard library only (the standalone verifier imports it)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_PREV = "0" * 64
ALGORITHMS = ("sha256", "sm3")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept as is: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(data: bytes, algorithm: str = "sha256") -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}")
    return hashlib.new(algorithm, data).hexdigest()


def event_body(
    *,
    fonds: str,
    seq: int,
    prev_hash: str,
    recorded_at: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    return {
        "fonds": fonds,
        "seq": seq,
        "prev": prev_hash,
        "at": recorded_at,
        "actor": actor,
        "action": action,
        "subject": [subject_type, subject_id],
        "payload": payload,
    }


def event_hash(body: dict[str, Any], algorithm: str = "sha256") -> str:
    return digest(canonical_json(body).encode("utf-8"), algorithm)
