"""Test-only builder of valid ``jishi-archive-package-v1`` packages, made with the pure ledger modules only.

The chain is real: Ed25519 keys, a genesis event publishing the system key, key enrolments signed by it,
person-signed step, organize and accept events, a signed checkpoint and RFC 9162 inclusion proofs. Some chain
events are deliberately left out of the package (another person's record, a later batch note), so the verifier
must check the events as a subset of the chain, as it does for real exports.

``rebag`` recomputes every manifest, Payload-Oxum and the tag manifest — what a careful forger does after
editing a package — so tests can show which checks still catch the edit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from openpyxl import Workbook
from reportlab.pdfgen import canvas

from jishi.ledger import hashing, merkle, signing
from jishi.ledger.verify import EventRow, SignatureRow

FONDS = "J001"
UNIT = "内江市委组织部"
VOLUME = "J001-WS·2026-GB-V0001"
VOLUME_DIR = "J001-WS_2026-GB-V0001"
BATCH = "NJ-2026-001"
NOMINATION = "NJ-2026-001-01"
TZ = dt.timezone(dt.timedelta(hours=8))
ORGANIZER = ("王芳", "wangfang")
CHECKER = ("李娜", "lina")


def pdf_bytes(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["件号", "档号", "题名"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class Chain:
    """One fonds' chain built in memory, with signatures, as the services would have written it."""

    def __init__(self, fonds: str, algorithm: str) -> None:
        self.fonds, self.algorithm = fonds, algorithm
        self.system = signing.generate_keypair()
        self.system_id = signing.key_id(self.system.public_key)
        self.rows: list[EventRow] = []
        self.signatures: list[SignatureRow] = []
        self.clock = dt.datetime(2026, 11, 27, 9, 0, tzinfo=TZ)

    def append(self, actor: str, action: str, subject: str, payload: dict[str, Any]) -> EventRow:
        subject_type, subject_id = subject.split(":")
        self.clock += dt.timedelta(minutes=1)
        fields: dict[str, Any] = {
            "fonds": self.fonds,
            "seq": len(self.rows) + 1,
            "prev_hash": self.rows[-1].hash if self.rows else hashing.GENESIS_PREV,
            "recorded_at": self.clock.isoformat(),
            "actor": actor,
            "action": action,
            "subject_type": subject_type,
            "subject_id": subject_id,
        }
        body = hashing.event_body(**fields, payload=payload)
        row = EventRow(**fields, hash=hashing.event_hash(body, self.algorithm), payload=hashing.canonical_json(payload))
        self.rows.append(row)
        return row

    def sign(self, row: EventRow, pair: signing.KeyPair, signer: str, role: str) -> None:
        message = signing.event_signature_message(fonds=row.fonds, seq=row.seq, event_hash=row.hash, role=role)
        key_id = signing.key_id(pair.public_key)
        self.signatures.append(
            SignatureRow(row.fonds, row.seq, key_id, signer, role, signing.sign(pair.private_key, message).hex())
        )

    def sign_system(self, row: EventRow) -> None:
        self.sign(row, self.system, "system", "system")

    def leaves(self) -> list[bytes]:
        return [merkle.leaf_hash(bytes.fromhex(r.hash), self.algorithm) for r in self.rows]

    def checkpoint(self) -> dict[str, Any]:
        root = merkle.root_from_leaf_hashes(self.leaves(), self.algorithm).hex()
        timestamp = (self.clock + dt.timedelta(minutes=5)).isoformat()
        message = signing.checkpoint_message(
            fonds=self.fonds, tree_size=len(self.rows), root_hex=root, timestamp=timestamp, algorithm=self.algorithm
        )
        signature = signing.sign(self.system.private_key, message).hex()
        return {
            "fonds": self.fonds,
            "tree_size": len(self.rows),
            "root": root,
            "timestamp": timestamp,
            "key_id": self.system_id,
            "signature": signature,
            "algorithm": self.algorithm,
        }

    def proof(self, seq: int) -> dict[str, Any]:
        path = merkle.inclusion_proof(self.leaves(), seq - 1, self.algorithm)
        return {"fonds": self.fonds, "seq": seq, "tree_size": len(self.rows), "path": [p.hex() for p in path]}


@dataclasses.dataclass
class Built:
    root: Path
    chain: Chain
    exported: list[int]  # seqs in the package
    items: list[dict[str, Any]]  # number, code, path (data/…), title, …
    organize_seq: int
    accept_seq: int

    def item(self, type_: str, carrier: str = "电子") -> dict[str, Any]:
        return next(i for i in self.items if i["type"] == type_ and i["carrier"] == carrier)

    def label(self, seq: int) -> str:
        return f"全宗 {FONDS} 第 {seq} 号事件"


def _keypair_event(chain: Chain, person: tuple[str, str]) -> tuple[signing.KeyPair, EventRow]:
    pair = signing.generate_keypair()
    row = chain.append(
        f"{person[0]}({person[1]})",
        "signing_key.enrol",
        f"user:{person[1]}",
        {"key_id": signing.key_id(pair.public_key), "username": person[1], "public_key": pair.public_key.hex()},
    )
    chain.sign_system(row)
    return pair, row


def _items(numbers: list[int], pdf: bytes, record: bytes, register_seqs: tuple[int, int]) -> list[dict[str, Any]]:
    specs = [
        ("record", "I06", "S01 谈话推荐纪实记录", "电子", "JSON", record, "12", None),
        ("material", "I18", "考察材料", "电子", "PDF", pdf, "5", register_seqs[0]),
        ("material", "I20", "征求纪检监察机关意见回复（纸质）", "纸质", "", None, "6", register_seqs[1]),
    ]
    items = []
    for number, (type_, doc_item, title, carrier, fmt, content, source_id, seq) in zip(numbers, specs, strict=True):
        ext = {"JSON": "json", "PDF": "pdf"}.get(fmt, "")
        name = f"volumes/{VOLUME_DIR}/items/{number:04d}-{type_}-{source_id}.{ext}" if content is not None else ""
        items.append(
            {
                "number": number,
                "code": f"{FONDS}-WS·2026-Y-GB-{number:04d}",
                "title": title,
                "type": type_,
                "item": doc_item,
                "carrier": carrier,
                "format": fmt,
                "content": content,
                "file": name,
                "path": f"data/{name}" if name else "",
                "sha256": hashlib.sha256(content).hexdigest() if content else "",
                "size": len(content) if content else 0,
                "pages": 2,
                "ledger": seq,
            }
        )
    return items


def _summary(item: dict[str, Any], accepted: bool) -> dict[str, Any]:
    return {
        "number": item["number"] if accepted else 0,
        "code": item["code"] if accepted else "",
        "title": item["title"],
        "sha256": item["sha256"],
        "pages": item["pages"],
        "retention": "Y",
        "item": item["item"],
        "type": item["type"],
    }


def build_chain(
    algorithm: str, numbers: list[int], required: list[str]
) -> tuple[Chain, list[int], list[dict[str, Any]]]:
    chain = Chain(FONDS, algorithm)
    genesis = chain.append(
        "系统",
        "chain.genesis",
        f"chain:{FONDS}",
        {
            "algorithm": algorithm,
            "system_key": {"key_id": chain.system_id, "public_key": chain.system.public_key.hex()},
            "checkpoint_every": 0,
        },
    )
    chain.sign_system(genesis)
    organizer, _ = _keypair_event(chain, ORGANIZER)
    checker, _ = _keypair_event(chain, CHECKER)
    clerk = "张三(zhangsan)"
    chain.append(clerk, "batch.create", "batch:1", {"batch": BATCH, "title": "2026年第三批市管干部调整"})
    chain.append(clerk, "nomination.add", "nomination:7", {"batch": BATCH, "number": NOMINATION, "name": "张伟"})
    chain.append(clerk, "step.start", "steprecord:12", {"batch": BATCH, "step": "S01", "nomination": NOMINATION})
    chain.append(clerk, "step.start", "steprecord:99", {"batch": BATCH, "step": "S01", "nomination": "NJ-2026-001-02"})
    pdf = pdf_bytes("Jishi archive test material")
    record = json.dumps({"step": "S01", "record": 12, "data": {"held_on": "2026-11-20"}}, ensure_ascii=False).encode()
    mat = chain.append(
        clerk,
        "material.register",
        "material:5",
        {
            "batch": BATCH,
            "step": "S01",
            "material": 5,
            "item": "I18",
            "title": "考察材料",
            "pages": 2,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "size": len(pdf),
        },
    )
    paper = chain.append(
        clerk,
        "material.register",
        "material:6",
        {
            "batch": BATCH,
            "step": "S01",
            "material": 6,
            "item": "I20",
            "title": "征求纪检监察机关意见回复（纸质）",
            "pages": 2,
            "sha256": "",
            "size": 0,
        },
    )
    items = _items(numbers, pdf, record, (mat.seq, paper.seq))
    confirm = chain.append(
        f"{ORGANIZER[0]}({ORGANIZER[1]})",
        "step.confirm",
        "steprecord:12",
        {"batch": BATCH, "step": "S01", "role": "recorder", "revision": 1},
    )
    chain.sign(confirm, organizer, ORGANIZER[1], "recorder")
    chain.append(clerk, "archive.volume_build", "volume:1", {"volume": VOLUME, "batch": BATCH, "kind": "personal"})
    organize = chain.append(
        f"{ORGANIZER[0]}({ORGANIZER[1]})",
        "archive.volume_organize",
        "volume:1",
        {
            "volume": VOLUME,
            "batch": BATCH,
            "kind": "personal",
            "role": "organizer",
            "notes": "",
            "items": [_summary(i, False) for i in items],
        },
    )
    chain.sign(organize, organizer, ORGANIZER[1], "organizer")
    subjects = ["material:5", "material:6", "nomination:7", "steprecord:12", "volume:1"]
    hashes = [r.hash for r in chain.rows if f"{r.subject_type}:{r.subject_id}" in subjects]
    accept = chain.append(
        f"{CHECKER[0]}({CHECKER[1]})",
        "archive.volume_accept",
        "volume:1",
        {
            "volume": VOLUME,
            "batch": BATCH,
            "kind": "personal",
            "nomination": NOMINATION,
            "role": "checker",
            "items": [_summary(i, True) for i in items],
            "required": required,
            "events": {
                "count": len(hashes),
                "digest": hashlib.sha256("\n".join(hashes).encode()).hexdigest(),
                "subjects": subjects,
            },
        },
    )
    chain.sign(accept, checker, CHECKER[1], "checker")
    chain.append(clerk, "batch.note", "batch:1", {"batch": BATCH, "note": "后续事件，不属于本卷"})
    exported = [r.seq for r in chain.rows if r.subject_id not in ("99",) and r.action != "batch.note"]
    return chain, exported, items


def _sub(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = text
    return el


def metadata_xml(items: list[dict[str, Any]], organize_seq: int, accept_seq: int) -> bytes:
    root = ET.Element("归档信息包", {"版本": "jishi-archive-package-v1"})
    info = _sub(root, "封装信息")
    _sub(info, "封装时间", "2026-11-27T10:00:00+08:00")
    _sub(info, "封装软件", "Jishi 0.1.0")
    source = _sub(root, "来源")
    _sub(source, "立档单位名称", UNIT)
    _sub(source, "全宗号", FONDS)
    volume = _sub(root, "案卷", 编号=VOLUME, 类型="personal")
    for tag, text in (
        ("聚合层次", "案卷"),
        ("题名", f"张伟 干部任用个人文书档案（{NOMINATION}）"),
        ("批次编号", BATCH),
        ("纪实表编号", NOMINATION),
        ("年度", "2026"),
        ("机构或问题", "GB"),
    ):
        _sub(volume, tag, text)
    _sub(volume, "整理事件", 全宗号=FONDS, 事件序号=str(organize_seq))
    _sub(volume, "验收事件", 全宗号=FONDS, 事件序号=str(accept_seq))
    notes = _sub(volume, "备考表")
    for tag, text in (
        ("情况说明", "本卷共 3 件。"),
        ("整理人", ORGANIZER[0]),
        ("整理日期", "20261127"),
        ("检查人", CHECKER[0]),
        ("检查日期", "20261127"),
    ):
        _sub(notes, tag, text)
    for index, item in enumerate(items, 1):
        el = _sub(volume, "文件", 序号=str(index))
        electronic = item["carrier"] == "电子"
        for tag, text in (
            ("聚合层次", "文件"),
            ("档号", item["code"]),
            ("全宗号", FONDS),
            ("门类代码", "WS"),
            ("年度", "2026"),
            ("保管期限", "Y"),
            ("机构或问题", "GB"),
            ("件号", str(item["number"])),
            ("题名", item["title"]),
            ("责任者", UNIT),
            ("日期", "20261120"),
            ("文件编号", ""),
            ("密级", "内部"),
            ("页数", str(item["pages"])),
            ("备注", ""),
            ("文件类型", item["type"]),
            ("纪实项目", item["item"]),
            ("载体", item["carrier"]),
            ("计算机文件名", item["file"]),
            ("格式信息", item["format"]),
            ("计算机文件大小", str(item["size"])),
        ):
            _sub(el, tag, text)
        _sub(el, "数字摘要", item["sha256"], **({"算法": "sha256"} if electronic else {}))
        if item["ledger"]:
            _sub(el, "台账事件", 全宗号=FONDS, 事件序号=str(item["ledger"]))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _jsonl(rows: list[Any]) -> str:
    return "".join(
        json.dumps(r if isinstance(r, dict) else dataclasses.asdict(r), ensure_ascii=False) + "\n" for r in rows
    )


def write_ledger(data: Path, chain: Chain, exported: list[int]) -> None:
    ledger = data / "ledger"
    ledger.mkdir(parents=True)
    rows = [r for r in chain.rows if r.seq in exported]
    (ledger / "events.jsonl").write_text(_jsonl(rows), encoding="utf-8")
    (ledger / "signatures.jsonl").write_text(
        _jsonl([s for s in chain.signatures if s.seq in exported]), encoding="utf-8"
    )
    (ledger / "proofs.jsonl").write_text(_jsonl([chain.proof(seq) for seq in exported]), encoding="utf-8")
    (ledger / "checkpoints.json").write_text(json.dumps([chain.checkpoint()], ensure_ascii=False), encoding="utf-8")
    keys = [
        {
            "fonds": FONDS,
            "key_id": chain.system_id,
            "owner": "system",
            "public_key": chain.system.public_key.hex(),
            "valid_from": 1,
            "valid_until": None,
        }
    ]
    for row in rows:
        if row.action == "signing_key.enrol":
            payload = json.loads(row.payload)
            keys.append(
                {
                    "fonds": FONDS,
                    "key_id": payload["key_id"],
                    "owner": payload["username"],
                    "public_key": payload["public_key"],
                    "valid_from": row.seq,
                    "valid_until": None,
                }
            )
    (ledger / "keys.json").write_text(json.dumps(keys, ensure_ascii=False), encoding="utf-8")


def _digest_file(path: Path, algorithm: str) -> str:
    return hashlib.new(algorithm, path.read_bytes()).hexdigest()


def rebag(root: Path) -> None:
    """Recompute every manifest, Payload-Oxum and the tag manifest over what is now in the package."""
    root = Path(root)
    payload = []
    for directory, dirs, files in os.walk(root / "data"):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if not path.is_symlink():
                payload.append(path)
    algorithms = [a for a in ("sha256", "sm3") if (root / f"manifest-{a}.txt").exists()] or ["sha256"]
    for algorithm in algorithms:
        lines = [f"{_digest_file(p, algorithm)}  {p.relative_to(root).as_posix()}\n" for p in payload]
        (root / f"manifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")
    oxum = f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    info = root / "bag-info.txt"
    text = info.read_text(encoding="utf-8") if info.exists() else ""
    info.write_text(re.sub(r"Payload-Oxum: .*", f"Payload-Oxum: {oxum}", text), encoding="utf-8")
    tags = ["bagit.txt", "bag-info.txt"] + [f"manifest-{a}.txt" for a in algorithms]
    lines = [f"{_digest_file(root / t, 'sha256')}  {t}\n" for t in tags]
    (root / "tagmanifest-sha256.txt").write_text("".join(lines), encoding="utf-8")


def build_package(
    root: Path, *, algorithm: str = "sha256", numbers: list[int] | None = None, required: list[str] | None = None
) -> Built:
    """Write a valid package at ``root`` (created); ``numbers`` are the 件号 the checker signs."""
    numbers = numbers or [1, 2, 3]
    chain, exported, items = build_chain(algorithm, numbers, required or ["I06", "I18", "I20"])
    accept = next(r for r in chain.rows if r.action == "archive.volume_accept")
    organize = next(r for r in chain.rows if r.action == "archive.volume_organize")
    data = Path(root) / "data"
    volume = data / "volumes" / VOLUME_DIR
    (volume / "items").mkdir(parents=True)
    for item in items:
        if item["content"] is not None:
            (data / item["file"]).write_bytes(item["content"])
    (volume / "catalogue.pdf").write_bytes(pdf_bytes("Catalogue"))
    (volume / "catalogue.xlsx").write_bytes(xlsx_bytes())
    (data / "metadata.xml").write_bytes(metadata_xml(items, organize.seq, accept.seq))
    write_ledger(data, chain, exported)
    (Path(root) / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", encoding="utf-8")
    (Path(root) / "bag-info.txt").write_text(
        f"Source-Organization: {UNIT}\nExternal-Identifier: {VOLUME}\nBagging-Date: 2026-11-27\n"
        "Payload-Oxum: 0.0\nBag-Software-Agent: Jishi 0.1.0\nJishi-Package-Format: jishi-archive-package-v1\n",
        encoding="utf-8",
    )
    for name in ["sha256"] + (["sm3"] if algorithm == "sm3" else []):
        (Path(root) / f"manifest-{name}.txt").write_text("", encoding="utf-8")
    rebag(Path(root))
    return Built(Path(root), chain, exported, items, organize.seq, accept.seq)
