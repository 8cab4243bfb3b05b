"""data/ledger/*: events, signatures, proofs, checkpoints and keys, read into the ledger module's row types.

Every line is parsed on its own and type-checked field by field: a malformed line is a U1 finding and is
skipped, the rest are still verified (a line that should be there and is not then shows up in C4 or A6).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from jishi.ledger.verify import CheckpointRow, EventRow, SignatureRow

from .files import Limits, UnsafePath, open_regular, read_bounded
from .report import Report

LEDGER = "data/ledger"
EVENTS = f"{LEDGER}/events.jsonl"
SIGNATURES = f"{LEDGER}/signatures.jsonl"
PROOFS = f"{LEDGER}/proofs.jsonl"
CHECKPOINTS = f"{LEDGER}/checkpoints.json"
KEYS = f"{LEDGER}/keys.json"
MAX_LINE = 16 * 1024 * 1024

EVENT_FIELDS: dict[str, type] = {
    "fonds": str,
    "seq": int,
    "prev_hash": str,
    "hash": str,
    "recorded_at": str,
    "actor": str,
    "action": str,
    "subject_type": str,
    "subject_id": str,
    "payload": str,
}
SIGNATURE_FIELDS: dict[str, type] = {
    "fonds": str,
    "seq": int,
    "key_id": str,
    "signer": str,
    "role": str,
    "signature": str,
}
PROOF_FIELDS: dict[str, type] = {"fonds": str, "seq": int, "tree_size": int, "path": list}
CHECKPOINT_FIELDS: dict[str, type] = {
    "fonds": str,
    "tree_size": int,
    "root": str,
    "timestamp": str,
    "key_id": str,
    "signature": str,
    "algorithm": str,
}
KEY_FIELDS: dict[str, type] = {"fonds": str, "key_id": str, "owner": str, "public_key": str, "valid_from": int}


@dataclass(frozen=True)
class Proof:
    fonds: str
    seq: int
    tree_size: int
    path: list[str]


@dataclass
class Ledger:
    events: dict[tuple[str, int], EventRow] = field(default_factory=dict)
    signatures: dict[tuple[str, int], list[SignatureRow]] = field(default_factory=dict)
    proofs: dict[tuple[str, int], Proof] = field(default_factory=dict)
    checkpoints: dict[str, tuple[CheckpointRow, str]] = field(default_factory=dict)  # fonds → (row, algorithm)
    keys: list[dict[str, Any]] | None = None
    events_readable: bool = False

    def fonds(self) -> list[str]:
        return sorted({f for f, _ in self.events} | set(self.checkpoints))

    def events_of(self, fonds: str) -> list[EventRow]:
        return [self.events[k] for k in sorted(k for k in self.events if k[0] == fonds)]


def typed(obj: Any, spec: dict[str, type]) -> str | None:
    """Why ``obj`` is not an object with these fields of these types (``None`` when it is)."""
    if not isinstance(obj, dict):
        return "不是 JSON 对象"
    for name, kind in spec.items():
        value = obj.get(name)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            return f"字段 {name} 应为非负整数"
        if not isinstance(value, kind):
            return f"缺少字段 {name} 或类型错误"
    return None


def _lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) pairs; ``None`` for a line longer than ``MAX_LINE`` (its rest is skipped)."""
    number = 0
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := fh.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            yield number, None
        else:
            yield number, line


def _records(root: str, rel: str, spec: dict[str, type], report: Report) -> Iterator[dict[str, Any]]:
    try:
        fh = open_regular(root, rel)
    except FileNotFoundError:
        report.add("U1", rel, "缺少该台账文件")
        return
    except (UnsafePath, OSError) as exc:
        report.add("U1", rel, f"无法读取：{exc}")
        return
    with fh:
        for number, line in _lines(fh):
            where = f"{rel} 第 {number} 行"
            if line is None:
                report.add("U1", where, "行过长")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                report.add("U1", where, "不是有效的 JSON")
                continue
            problem = typed(obj, spec)
            if problem:
                report.add("U1", where, problem)
                continue
            yield obj


def _json_array(root: str, rel: str, limits: Limits, report: Report) -> list[Any] | None:
    try:
        data = json.loads(read_bounded(root, rel, limits.max_metadata_bytes).decode("utf-8"))
    except FileNotFoundError:
        report.add("U1", rel, "缺少该台账文件")
        return None
    except (UnsafePath, OSError) as exc:
        report.add("U1", rel, f"无法读取：{exc}")
        return None
    except (UnicodeDecodeError, ValueError, RecursionError):
        report.add("U1", rel, "不是有效的 JSON")
        return None
    if not isinstance(data, list):
        report.add("U1", rel, "应为 JSON 数组")
        return None
    return data


def read_ledger(root: str, limits: Limits, report: Report) -> Ledger:
    ledger = Ledger()
    ledger.events_readable = True
    for obj in _records(root, EVENTS, EVENT_FIELDS, report):
        row = EventRow(**{k: obj[k] for k in EVENT_FIELDS})
        key = (row.fonds, row.seq)
        if key in ledger.events:
            report.add("U1", f"全宗 {row.fonds} 第 {row.seq} 号事件", "在 events.jsonl 中重复出现")
            continue
        ledger.events[key] = row
    if not ledger.events:
        ledger.events_readable = False
    for obj in _records(root, SIGNATURES, SIGNATURE_FIELDS, report):
        sig = SignatureRow(**{k: obj[k] for k in SIGNATURE_FIELDS})
        ledger.signatures.setdefault((sig.fonds, sig.seq), []).append(sig)
    for obj in _records(root, PROOFS, PROOF_FIELDS, report):
        path = obj["path"]
        if not all(isinstance(p, str) for p in path):
            report.add("U1", f"全宗 {obj['fonds']} 第 {obj['seq']} 号事件的包含证明", "path 应为十六进制字符串数组")
            continue
        proof = Proof(obj["fonds"], obj["seq"], obj["tree_size"], list(path))
        if (proof.fonds, proof.seq) in ledger.proofs:
            report.add("U1", f"全宗 {proof.fonds} 第 {proof.seq} 号事件的包含证明", "重复出现")
            continue
        ledger.proofs[(proof.fonds, proof.seq)] = proof
    for index, obj in enumerate(_json_array(root, CHECKPOINTS, limits, report) or [], 1):
        problem = typed(obj, CHECKPOINT_FIELDS)
        if problem:
            report.add("U1", f"{CHECKPOINTS} 第 {index} 项", problem)
            continue
        checkpoint = CheckpointRow(**{k: obj[k] for k in CHECKPOINT_FIELDS if k != "algorithm"})
        if checkpoint.fonds in ledger.checkpoints:
            report.add("U1", f"全宗 {checkpoint.fonds} 的检查点", "每个全宗只应有一个检查点")
            continue
        ledger.checkpoints[checkpoint.fonds] = (checkpoint, obj["algorithm"])
    keys = _json_array(root, KEYS, limits, report)
    if keys is not None:
        ledger.keys = []
        for index, obj in enumerate(keys, 1):
            problem = typed(obj, KEY_FIELDS)
            if problem is None and not (obj.get("valid_until") is None or typed(obj, {"valid_until": int}) is None):
                problem = "字段 valid_until 应为整数或 null"
            if problem:
                report.add("U1", f"{KEYS} 第 {index} 项", problem)
                continue
            ledger.keys.append(obj)
    return ledger
