"""A3–A6: the package's ledger events verified as a subset of their chains.

A package holds only some events of each fonds' chain, so the hash chain cannot be walked end to end. Instead
each event's hash is recomputed from its content (A3), proven to be leaf ``seq - 1`` of the Merkle tree whose
root the fonds' checkpoint signs (A4), the checkpoint is verified with the system key published by the genesis
event — itself proven the same way (A5) — and signatures are checked against keys learned, in chain order,
from the genesis and ``signing_key.*`` events in the package (A6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jishi.ledger import hashing, merkle
from jishi.ledger.verify import (
    SYSTEM_SIGNED,
    EventRow,
    Registry,
    check_checkpoint,
    check_required_signatures,
    check_signature,
    recompute_hash,
)

from .files import is_hex_digest
from .ledger_files import Ledger
from .report import Report


def event_label(fonds: str, seq: int | str) -> str:
    return f"全宗 {fonds} 第 {seq} 号事件"


@dataclass
class ChainState:
    """What later checks may rely on: the algorithm of each fonds and which events are proven."""

    algorithms: dict[str, str] = field(default_factory=dict)
    hashed: set[tuple[str, int]] = field(default_factory=set)  # A3 passed
    proven: set[tuple[str, int]] = field(default_factory=set)  # A3 and A4 passed
    registry: Registry = field(default_factory=Registry)


def _payload(row: EventRow) -> Any:
    try:
        return json.loads(row.payload)
    except (ValueError, RecursionError):
        return None


def _algorithm(fonds: str, ledger: Ledger, report: Report) -> str:
    genesis = ledger.events.get((fonds, 1))
    payload = _payload(genesis) if genesis is not None else None
    declared = payload.get("algorithm") if isinstance(payload, dict) else None
    checkpoint = ledger.checkpoints.get(fonds)
    cp_algorithm = checkpoint[1] if checkpoint else None
    if declared is not None and cp_algorithm is not None and declared != cp_algorithm:
        report.add("A5", f"全宗 {fonds} 的检查点", f"检查点的摘要算法 {cp_algorithm} 与创世事件声明的 {declared} 不符")
    for candidate in (declared, cp_algorithm):
        if candidate in hashing.ALGORITHMS:
            return str(candidate)
    report.add("A3", f"全宗 {fonds}", "无法确定台账的摘要算法（创世事件与检查点均未给出 sha256 或 sm3）")
    return "sha256"


def _check_hash(row: EventRow, algorithm: str, previous: EventRow | None, report: Report) -> bool:
    label = event_label(row.fonds, row.seq)
    payload = _payload(row)
    if payload is None:
        report.add("A3", label, "事件内容（payload）不是有效的 JSON")
        return False
    try:
        recomputed = recompute_hash(row, payload, algorithm)
    except (ValueError, TypeError, RecursionError):
        recomputed = ""
    if recomputed != row.hash:
        report.add("A3", label, "按事件内容重算的哈希与记录的哈希不符（记录被改动）")
        return False
    if row.seq == 1 and row.prev_hash != hashing.GENESIS_PREV:
        report.add("A3", label, "创世事件的前一事件哈希应为全零")
        return False
    if previous is not None and previous.seq == row.seq - 1 and row.prev_hash != previous.hash:
        report.add("A3", label, f"前一事件哈希与第 {previous.seq} 号事件不符")
        return False
    if previous is not None and row.recorded_at < previous.recorded_at:
        report.add("A3", label, "记录时间早于包内前一事件（时间被倒填）")
        return False
    return True


def _check_proof(row: EventRow, algorithm: str, ledger: Ledger, report: Report) -> bool:
    label = event_label(row.fonds, row.seq)
    checkpoint = ledger.checkpoints.get(row.fonds)
    if checkpoint is None:
        return False  # reported once per fonds
    cp = checkpoint[0]
    proof = ledger.proofs.get((row.fonds, row.seq))
    if proof is None:
        report.add("A4", label, "缺少包含证明")
        return False
    if row.seq > cp.tree_size:
        report.add("A4", label, f"事件不在检查点（树大小 {cp.tree_size}）覆盖范围内")
        return False
    if proof.tree_size != cp.tree_size:
        report.add("A4", label, f"包含证明的树大小 {proof.tree_size} 与检查点的 {cp.tree_size} 不符")
        return False
    if not is_hex_digest(row.hash) or not all(is_hex_digest(p) for p in proof.path):
        report.add("A4", label, "包含证明或事件哈希不是 64 位小写十六进制")
        return False
    ok = merkle.verify_inclusion(
        merkle.leaf_hash(bytes.fromhex(row.hash), algorithm),
        row.seq - 1,
        cp.tree_size,
        [bytes.fromhex(p) for p in proof.path],
        bytes.fromhex(cp.root),
        algorithm,
    )
    if not ok:
        report.add("A4", label, "包含证明与检查点的根哈希不符（事件或证明被改动）")
    return ok


def _check_checkpoint(fonds: str, ledger: Ledger, state: ChainState, report: Report) -> None:
    where = f"全宗 {fonds} 的检查点"
    genesis = ledger.events.get((fonds, 1))
    if genesis is None or genesis.action != "chain.genesis":
        report.add("A5", event_label(fonds, 1), "包中缺少该全宗的创世事件，无法取得单位系统公钥")
        return
    if (fonds, 1) not in state.proven:
        report.add("A5", event_label(fonds, 1), "创世事件未通过哈希或包含证明核验，其单位系统公钥不可信")
        return
    state.registry.learn(genesis)
    if fonds not in state.registry.system:
        report.add("A5", event_label(fonds, 1), "创世事件未给出有效的单位系统公钥")
        return
    cp = ledger.checkpoints[fonds][0]
    problem = check_checkpoint(cp, bytes.fromhex(cp.root), state.registry, state.algorithms[fonds])
    if problem:
        report.add("A5", where, problem)


def _check_signatures(rows: list[EventRow], ledger: Ledger, state: ChainState, report: Report) -> None:
    for row in rows:
        sigs = ledger.signatures.get((row.fonds, row.seq), [])
        if _payload(row) is None:
            report.add("A6", event_label(row.fonds, row.seq), "事件内容无法解析，签名无法核验")
            continue
        problems = [check_required_signatures(row, sigs)] + [check_signature(row, s, state.registry) for s in sigs]
        for problem in problems:
            if problem:
                report.add("A6", event_label(row.fonds, row.seq), problem)
        trusted = (row.fonds, row.seq) in state.proven and not any(problems)
        if row.seq != 1 and row.action in SYSTEM_SIGNED and trusted:
            state.registry.learn(row)


def check_chain(ledger: Ledger, report: Report) -> ChainState:
    state = ChainState()
    for fonds in ledger.fonds():
        algorithm = state.algorithms[fonds] = _algorithm(fonds, ledger, report)
        rows = ledger.events_of(fonds)
        checkpoint = ledger.checkpoints.get(fonds)
        if checkpoint is None:
            report.add("A4", f"全宗 {fonds}", "缺少该全宗的检查点，事件无法证明")
        elif not is_hex_digest(checkpoint[0].root):
            report.add("A4", f"全宗 {fonds} 的检查点", "根哈希不是 64 位小写十六进制")
            checkpoint = None
        previous: EventRow | None = None
        for row in rows:
            if _check_hash(row, algorithm, previous, report):
                state.hashed.add((fonds, row.seq))
                if checkpoint is not None and _check_proof(row, algorithm, ledger, report):
                    state.proven.add((fonds, row.seq))
            previous = row
        if checkpoint is not None:
            _check_checkpoint(fonds, ledger, state, report)
        _check_signatures(rows, ledger, state, report)
    _compare_keys(ledger, state, report)
    return state


def _compare_keys(ledger: Ledger, state: ChainState, report: Report) -> None:
    """keys.json is a convenience copy; any difference from the keys the events publish is reported."""
    if ledger.keys is None:
        return
    derived: dict[tuple[str, str], tuple[str, str, int, int | None]] = {}
    for info in [*state.registry.system.values(), *state.registry.keys.values()]:
        derived[(info.fonds, info.key_id)] = (info.owner, info.public_key.hex(), info.valid_from, info.valid_until)
    listed: dict[tuple[str, str], tuple[str, str, int, int | None]] = {}
    for entry in ledger.keys:
        key = (entry["fonds"], entry["key_id"])
        listed[key] = (entry["owner"], entry["public_key"].lower(), entry["valid_from"], entry.get("valid_until"))
    for key in sorted(set(derived) | set(listed)):
        where = f"keys.json 中全宗 {key[0]} 的密钥 {key[1]}"
        if key not in listed:
            report.add("A6", where, "台账事件登记了该密钥，keys.json 未列出")
        elif key not in derived:
            report.add("A6", where, "keys.json 列出的密钥未在包内经核验的台账事件中登记")
        elif listed[key] != derived[key]:
            report.add("A6", where, "keys.json 中的持有人、公钥或有效期与台账事件登记的不符")
