"""Ledger verification core — standard library and ``cryptography`` only, no Django.

The same code checks the live database (through ``ledger.selectors``) and an exported package
(``python -m jishi.ledger.verify DIR``). It streams: memory stays flat however long a chain is.

What it checks, per chain: the genesis event and the hash algorithm it declares; every event's hash
and link to the previous one; every signature against the key valid for its signer at that time (keys
are learned from the ledger's own enrolment events, signed by the unit's system key); that acts which
must be signed are; every stored checkpoint's signature and root (recomputed from the events, which also
proves consistency between checkpoints); optional witness checkpoints kept outside; material files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import hashing, merkle, signing

SYSTEM = "system"
SYSTEM_SIGNED = frozenset(
    {"chain.genesis", "signing_key.enrol", "signing_key.rotate", "signing_key.revoke", "signing_key.pin_change"}
)
PERSON_SIGNED = frozenset(
    {
        "step.confirm",
        "step.waive",
        "step.correct",
        "archive.volume_organize",
        "archive.volume_accept",
        "archive.transfer_sign",
        "archive.disposition_approve",
        "archive.disposition_reject",
        "archive.disposition_execute",
    }
)


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
class SignatureRow:
    fonds: str
    seq: int
    key_id: str
    signer: str
    role: str
    signature: str


@dataclass(frozen=True)
class CheckpointRow:
    fonds: str
    tree_size: int
    root: str
    timestamp: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class Witness:
    """A checkpoint kept by an outside party, with the public key it was signed with."""

    fonds: str
    algorithm: str
    tree_size: int
    root: str
    timestamp: str
    key_id: str
    public_key: str
    signature: str

    def to_text(self) -> str:
        lines = ["jishi-checkpoint-v1"] + [f"{k} {getattr(self, k)}" for k in WITNESS_FIELDS]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Witness:
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if not lines or lines[0] != "jishi-checkpoint-v1":
            raise ValueError("不是纪实检查点文件（首行应为 jishi-checkpoint-v1）")
        values = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
        missing = [k for k in WITNESS_FIELDS if k not in values]
        if missing:
            raise ValueError(f"检查点文件缺少字段：{', '.join(missing)}")
        try:
            size = int(values["tree_size"])
        except ValueError:
            raise ValueError("检查点文件的 tree_size 不是整数") from None
        return cls(**{k: values[k] for k in WITNESS_FIELDS if k != "tree_size"}, tree_size=size)


WITNESS_FIELDS = ("fonds", "algorithm", "tree_size", "root", "timestamp", "key_id", "public_key", "signature")


@dataclass(frozen=True)
class Break:
    fonds: str
    seq: int
    what: str

    def __str__(self) -> str:
        return f"全宗 {self.fonds} 第 {self.seq} 号事件：{self.what}"


@dataclass
class KeyInfo:
    key_id: str
    owner: str  # username, or "system" for a unit key
    fonds: str
    public_key: bytes
    valid_from: int  # seq of the enrolling event in ``fonds``' chain
    valid_until: int | None = None  # seq of the rotating or revoking event


@dataclass
class Registry:
    """Public keys learned from the ledger: unit system keys (genesis) and personal keys (enrolment).

    A personal key is valid only in the chain that published it, and only between the events that
    published and retired it there — positions in the chain, not clock times, which could be forged.
    """

    keys: dict[tuple[str, str], KeyInfo] = field(default_factory=dict)
    system: dict[str, KeyInfo] = field(default_factory=dict)
    algorithms: dict[str, str] = field(default_factory=dict)
    checkpoint_every: dict[str, int] = field(default_factory=dict)

    def learn(self, row: EventRow) -> None:
        if row.action not in SYSTEM_SIGNED:
            return
        try:
            payload: Any = json.loads(row.payload)
            if row.action == "chain.genesis" and row.seq == 1:
                key = payload["system_key"]
                info = KeyInfo(key["key_id"], SYSTEM, row.fonds, bytes.fromhex(key["public_key"]), row.seq)
                self.system[row.fonds] = info
                self.algorithms[row.fonds] = payload["algorithm"]
                self.checkpoint_every[row.fonds] = int(payload.get("checkpoint_every") or 0)
            elif row.action in ("signing_key.enrol", "signing_key.rotate"):
                old = self.keys.get((row.fonds, payload.get("old_key_id", "")))
                if row.action == "signing_key.rotate" and old is not None:
                    old.valid_until = row.seq
                self.keys[(row.fonds, payload["key_id"])] = KeyInfo(
                    payload["key_id"], payload["username"], row.fonds, bytes.fromhex(payload["public_key"]), row.seq
                )
            elif row.action == "signing_key.revoke" and (row.fonds, payload["key_id"]) in self.keys:
                self.keys[(row.fonds, payload["key_id"])].valid_until = row.seq
        except (KeyError, TypeError, ValueError):
            # A malformed key event is reported by the full pass (its hash or signature fails).
            return


def collect_keys(chains: Iterable[Iterable[EventRow]]) -> Registry:
    registry = Registry()
    for rows in chains:
        for row in rows:
            registry.learn(row)
    return registry


def recompute_hash(row: EventRow, payload: Any, algorithm: str) -> str:
    """The hash an event row must carry, from its fields and its parsed payload."""
    return hashing.event_hash(row_body(row, payload), algorithm)


def row_body(row: EventRow, payload: Any) -> dict[str, Any]:
    """The body an event row's hash covers, from its fields and its parsed payload."""
    return hashing.event_body(
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


def _actor_username(actor_label: str) -> str:
    return actor_label[actor_label.rfind("(") + 1 : -1] if actor_label.endswith(")") else ""


class _Peek:
    def __init__(self, items: Iterable[Any]):
        self._it: Iterator[Any] = iter(items)
        self._next: Any = next(self._it, None)

    def take_while(self, predicate: Callable[[Any], bool]) -> list[Any]:
        taken = []
        while self._next is not None and predicate(self._next):
            taken.append(self._next)
            self._next = next(self._it, None)
        return taken

    @property
    def head(self) -> Any:
        return self._next


def check_signature(row: EventRow, sig: SignatureRow, registry: Registry) -> str | None:
    message = signing.event_signature_message(fonds=row.fonds, seq=row.seq, event_hash=row.hash, role=sig.role)
    if sig.signer == SYSTEM:
        key = registry.system.get(row.fonds)
        if key is None or key.key_id != sig.key_id:
            return "系统签名所用密钥不是本全宗创世事件登记的单位密钥"
    else:
        key = registry.keys.get((row.fonds, sig.key_id))
        if key is None:
            return f"签名密钥 {sig.key_id} 未在本全宗台账中登记"
        if key.owner != sig.signer or _actor_username(row.actor) != sig.signer:
            return f"签名密钥 {sig.key_id} 属于 {key.owner}，不是事件操作人 {row.actor} 的密钥"
        if row.seq <= key.valid_from or (key.valid_until is not None and row.seq >= key.valid_until):
            return f"签名时密钥 {sig.key_id} 不在有效期内（已停用或尚未登记）"
    try:
        signature = bytes.fromhex(sig.signature)
    except ValueError:
        return "签名值格式错误"
    if not signing.verify(key.public_key, message, signature):
        return f"{sig.signer} 的签名验证失败"
    return None


def check_required_signatures(row: EventRow, sigs: list[SignatureRow]) -> str | None:
    if row.action in SYSTEM_SIGNED and not any(s.signer == SYSTEM for s in sigs):
        return "缺少单位系统密钥签名"
    if row.action in PERSON_SIGNED:
        try:
            payload = json.loads(row.payload)
        except ValueError:
            return "事件内容不是有效的 JSON"
        if not any(s.signer != SYSTEM and s.role == payload.get("role") for s in sigs):
            return "确认事件缺少责任人签名"
    return None


def check_checkpoint(cp: CheckpointRow, root: bytes, registry: Registry, algorithm: str) -> str | None:
    if cp.root != root.hex():
        return f"检查点（树大小 {cp.tree_size}）的根哈希与台账重算结果不符"
    key = registry.system.get(cp.fonds)
    if key is None or key.key_id != cp.key_id:
        return f"检查点（树大小 {cp.tree_size}）不是用本全宗的单位密钥签名的"
    message = signing.checkpoint_message(
        fonds=cp.fonds, tree_size=cp.tree_size, root_hex=cp.root, timestamp=cp.timestamp, algorithm=algorithm
    )
    try:
        ok = signing.verify(key.public_key, message, bytes.fromhex(cp.signature))
    except ValueError:
        ok = False
    return None if ok else f"检查点（树大小 {cp.tree_size}）签名验证失败"


def _check_witness(w: Witness, root: bytes, registry: Registry, algorithm: str) -> str | None:
    if w.algorithm != algorithm:
        return f"见证检查点的摘要算法 {w.algorithm} 与台账 {algorithm} 不符"
    if w.root != root.hex():
        return f"台账前 {w.tree_size} 个事件的根哈希与见证检查点不符：历史被改写"
    key = registry.system.get(w.fonds)
    if key is None or key.public_key.hex() != w.public_key:
        return "见证检查点的单位公钥与创世事件不符：链被重建"
    message = signing.checkpoint_message(
        fonds=w.fonds, tree_size=w.tree_size, root_hex=w.root, timestamp=w.timestamp, algorithm=w.algorithm
    )
    try:
        ok = signing.verify(bytes.fromhex(w.public_key), message, bytes.fromhex(w.signature))
    except ValueError:
        ok = False
    return None if ok else "见证检查点本身的签名无效"


def _before(seq: int) -> Callable[[SignatureRow], bool]:
    return lambda s: s.seq < seq


def _at(seq: int) -> Callable[[SignatureRow], bool]:
    return lambda s: s.seq == seq


def verify_chain(
    rows: Iterable[EventRow],
    algorithm: str | None = None,
    *,
    registry: Registry | None = None,
    signatures: Iterable[SignatureRow] = (),
    checkpoints: Iterable[CheckpointRow] = (),
    witnesses: Iterable[Witness] = (),
    head: tuple[int, str] | None = None,
    material_check: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Break | None:
    """First broken place in one chain (events, signatures and checkpoints each sorted by seq/size).

    Without a registry only the hash chain (and, if given, checkpoints' roots) can be checked; the
    algorithm then defaults to the one passed in.
    """
    sig_iter = _Peek(signatures)
    cps = sorted(checkpoints, key=lambda c: c.tree_size)
    wits = sorted(witnesses, key=lambda w: w.tree_size)
    expected_prev, expected_seq, fonds = hashing.GENESIS_PREV, 1, ""
    builder: merkle.TreeBuilder | None = None
    last_cp_time = last_time = ""
    for row in rows:
        fonds = row.fonds
        if row.seq == 1 and registry is not None:
            algorithm = registry.algorithms.get(row.fonds, algorithm)
            if row.action != "chain.genesis":
                return Break(fonds, 1, "第一个事件不是创世事件")
        algo = algorithm or "sha256"
        if builder is None:
            builder = merkle.TreeBuilder(algo)
        if row.seq != expected_seq:
            return Break(fonds, row.seq, f"序号不连续，应为 {expected_seq}")
        if row.prev_hash != expected_prev:
            return Break(fonds, row.seq, "前一事件哈希不符")
        if row.recorded_at < last_time:
            return Break(fonds, row.seq, "记录时间早于前一事件（时间被倒填）")
        last_time = row.recorded_at
        try:
            payload: Any = json.loads(row.payload)
        except ValueError:
            return Break(fonds, row.seq, "事件内容不是有效的 JSON")
        if recompute_hash(row, payload, algo) != row.hash:
            return Break(fonds, row.seq, "事件内容与哈希不符（记录被改动）")
        stray = sig_iter.take_while(_before(row.seq))
        if stray:
            return Break(fonds, stray[0].seq, "签名指向不存在的事件")
        sigs = sig_iter.take_while(_at(row.seq))
        if registry is not None:
            problem = check_required_signatures(row, sigs) or next(
                (p for s in sigs if (p := check_signature(row, s, registry))), None
            )
            if problem:
                return Break(fonds, row.seq, problem)
        if material_check is not None and row.action == "material.register" and payload.get("sha256"):
            problem = material_check(payload["sha256"])
            if problem:
                return Break(fonds, row.seq, problem)
        builder.append_leaf_hash(merkle.leaf_hash(bytes.fromhex(row.hash), algo))
        every = registry.checkpoint_every.get(fonds, 0) if registry is not None else 0
        if every and builder.size % every == 0 and not (cps and cps[0].tree_size == builder.size):
            return Break(fonds, row.seq, f"缺少树大小 {builder.size} 处的自动检查点（检查点被删除）")
        while cps and cps[0].tree_size == builder.size:
            cp = cps.pop(0)
            if registry is not None:
                problem = check_checkpoint(cp, builder.root(), registry, algo)
                if problem is None and cp.timestamp < last_cp_time:
                    problem = "检查点时间倒序"
                last_cp_time = cp.timestamp
            else:
                problem = None if cp.root == builder.root().hex() else "检查点根哈希与台账不符"
            if problem:
                return Break(fonds, row.seq, problem)
        while wits and wits[0].tree_size == builder.size:
            w = wits.pop(0)
            problem = _check_witness(w, builder.root(), registry or Registry(), algo)
            if problem:
                return Break(fonds, row.seq, problem)
        if progress is not None and row.seq % 5000 == 0:
            progress(row.seq)
        expected_prev, expected_seq = row.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if sig_iter.head is not None:
        return Break(fonds or sig_iter.head.fonds, sig_iter.head.seq, "签名指向不存在的事件")
    if cps:
        return Break(
            fonds or cps[0].fonds, last_seq, f"检查点（树大小 {cps[0].tree_size}）超出台账长度：尾部事件被删除"
        )
    if wits:
        return Break(
            fonds or wits[0].fonds,
            last_seq,
            f"见证检查点记录了 {wits[0].tree_size} 个事件，台账只有 {last_seq} 个：尾部事件被删除",
        )
    if head is not None and (last_seq, expected_prev) != head:
        return Break(fonds, last_seq, "链头与最后一个事件不符（尾部事件缺失或多出）")
    return None


# Exported packages ------------------------------------------------------------------------------------

EXPORT_FORMAT = "jishi-ledger-export-v1"


def _jsonl(path: Any) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def verify_export(
    directory: str, witnesses: Iterable[Witness] = (), progress: Callable[[str], None] = print
) -> list[Break]:
    """Verify an exported package (``manage.py ledger export DIR``) without Django or a database."""
    import hashlib
    import os

    manifest = json.loads(Path(directory, "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != EXPORT_FORMAT:
        raise ValueError(f"不是纪实台账导出包（format 应为 {EXPORT_FORMAT}）")
    chains: dict[str, dict[str, Any]] = manifest["chains"]

    def events(fonds: str) -> Iterator[EventRow]:
        for d in _jsonl(os.path.join(directory, f"{fonds}.events.jsonl")):
            yield EventRow(**d)

    material_dir = os.path.join(directory, "materials")
    # Content destroyed under a signed disposition (archive.disposition_execute) is expected to be missing.
    destroyed: set[str] = set()
    for fonds in chains:
        for row in events(fonds):
            if row.action == "archive.disposition_execute":
                items = json.loads(row.payload).get("items", [])
                destroyed.update(i.get("sha256", "") for i in items if isinstance(i, dict))

    def material_check(sha: str) -> str | None:
        if sha in destroyed:
            return None
        path = os.path.join(material_dir, sha)
        if not os.path.exists(path):
            return f"导出包中缺少材料文件 {sha[:16]}…"
        with open(path, "rb") as fh:
            if hashlib.sha256(fh.read()).hexdigest() != sha:
                return f"材料文件 {sha[:16]}… 内容已被改动（摘要不符）"
        return None

    by_fonds: dict[str, list[Witness]] = {}
    for w in witnesses:
        by_fonds.setdefault(w.fonds, []).append(w)
    problems = [Break(f, 0, "见证检查点所属全宗不在导出包中") for f in by_fonds if f not in chains]
    keys = collect_keys(events(f) for f in sorted(chains))
    for fonds in sorted(chains):
        info = chains[fonds]
        problem = verify_chain(
            events(fonds),
            info["algorithm"],
            registry=keys,
            signatures=(SignatureRow(**d) for d in _jsonl(os.path.join(directory, f"{fonds}.signatures.jsonl"))),
            checkpoints=[CheckpointRow(**d) for d in _jsonl(os.path.join(directory, f"{fonds}.checkpoints.jsonl"))],
            witnesses=tuple(by_fonds.get(fonds, ())),
            head=(int(info["seq"]), info["head"]),
            material_check=material_check if os.path.isdir(material_dir) else None,
        )
        progress(f"全宗 {fonds}：{info['seq']} 个事件 — {'无误' if problem is None else problem}")
        if problem:
            problems.append(problem)
    return problems


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m jishi.ledger.verify", description="离线核验纪实台账导出包（不需要服务器和数据库）"
    )
    parser.add_argument("directory", help="manage.py ledger export 生成的目录")
    parser.add_argument("--witness", action="append", default=[], help="外部保存的检查点文件（可多次给出）")
    args = parser.parse_args(argv)
    try:
        witnesses = [Witness.from_text(Path(w).read_text(encoding="utf-8")) for w in args.witness]
        problems = verify_export(args.directory, witnesses)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"无法核验：导出包格式错误（{exc}）")
        return 3
    if problems:
        print(f"核验未通过：{problems[0]}")
        return 2
    print("核验通过。")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
