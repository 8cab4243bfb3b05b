"""Write a volume or a batch as a BagIt archive package (format: docs/archive-package.md).

Everything a verifier needs without our server goes in: the content of every electronic item, the
catalogue, metadata.xml (DA/T 46 element names), the ledger events of the volumes' subjects with RFC 9162
inclusion proofs against a checkpoint signed just before, and the keys that signed them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bagit
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from jishi.core import storage
from jishi.ledger import merkle
from jishi.ledger import selectors as ledger_selectors
from jishi.ledger.models import Chain, Checkpoint, Event
from jishi.ledger.verify import Registry

from . import selectors
from .assemble import subjects_q
from .catalogue_pdf import render_catalogue
from .catalogue_xlsx import catalogue_xlsx
from .models import ArchiveItem, Disposition, Volume

FORMAT = "jishi-archive-package-v1"
EXTENSIONS = {
    "PDF": "pdf",
    "JSON": "json",
    "OFD": "ofd",
    "DOCX": "docx",
    "XLSX": "xlsx",
    "PNG": "png",
    "JPG": "jpg",
    "JPEG": "jpg",
    "TIFF": "tif",
    "XML": "xml",
    "TXT": "txt",
}
FORMAT_NAMES = {"JPG": "JPEG"}


def safe_name(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", code)


def item_path(volume: Volume, item: ArchiveItem) -> str:
    ext = EXTENSIONS.get(item.file_format.upper(), "bin")
    number = f"{item.number or 0:04d}"
    return f"volumes/{safe_name(volume.code)}/items/{item.retention}-{number}-{item.item_type}-{item.source_id}.{ext}"


def _sub(parent: ET.Element, tag: str, text: object = "", **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = "" if text is None else str(text)
    return el


def _metadata(volumes: list[Volume], paths: dict[int, str]) -> bytes:
    root = ET.Element("归档信息包", {"版本": FORMAT})
    info = _sub(root, "封装信息")
    _sub(info, "封装时间", timezone.localtime().isoformat(timespec="seconds"))
    _sub(info, "封装软件", "Jishi 纪实")
    unit = volumes[0].org_unit
    source = _sub(root, "来源")
    _sub(source, "立档单位名称", unit.name)
    _sub(source, "全宗号", unit.code)
    for volume in volumes:
        v = _sub(root, "案卷", 编号=volume.code, 类型=volume.kind)
        _sub(v, "聚合层次", "案卷")
        _sub(v, "题名", volume.title)
        _sub(v, "批次编号", volume.batch.number)
        if volume.nomination is not None:
            _sub(v, "纪实表编号", volume.nomination.number)
        _sub(v, "年度", volume.year)
        _sub(v, "机构或问题", volume.org_code)
        _sub(v, "整理事件", 全宗号=unit.code, 事件序号=str(volume.organize_event or ""))
        _sub(v, "验收事件", 全宗号=unit.code, 事件序号=str(volume.accept_event or ""))
        backup = selectors.backup_sheet(volume)
        b = _sub(v, "备考表")
        for tag, value in (
            ("情况说明", backup.notes if backup else ""),
            ("整理人", backup.organizer if backup else ""),
            ("整理日期", backup.organized_on if backup else ""),
            ("检查人", backup.checker if backup else ""),
            ("检查日期", backup.checked_on if backup else ""),
        ):
            _sub(b, tag, value)
        for item in volume.items.all().order_by("position"):
            f = _sub(v, "文件", 序号=str(item.position))
            _sub(f, "聚合层次", "文件")
            fields: tuple[tuple[str, object], ...] = (
                ("档号", item.code),
                ("全宗号", item.fonds),
                ("门类代码", settings.ARCHIVE_CATEGORY if item.code else ""),
                ("年度", item.year),
                ("保管期限", item.retention),
                ("机构或问题", item.org_code),
                ("件号", item.number or ""),
                ("题名", item.title),
                ("责任者", item.responsible),
                ("日期", selectors.ymd(item.date)),
                ("文件编号", item.document_number),
                ("密级", item.secrecy),
                ("页数", item.pages),
                ("备注", item.remarks),
                ("文件类型", item.item_type),
                ("纪实项目", item.item_id),
                ("载体", "已销毁" if item.destroyed else item.get_carrier_display()),
                ("计算机文件名", paths.get(item.pk, "")),
                (
                    "格式信息",
                    FORMAT_NAMES.get(item.file_format.upper(), item.file_format.upper())
                    if item.sha256 and not item.destroyed
                    else "",
                ),
                ("计算机文件大小", item.size if item.sha256 and not item.destroyed else 0),
            )
            for tag, field_value in fields:
                _sub(f, tag, field_value)
            _sub(f, "数字摘要", item.sha256, 算法="sha256")
            _sub(f, "台账事件", 全宗号=item.fonds, 事件序号=str(item.ledger_seq or ""))
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _jsonl(path: Path, rows: Iterable[Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _ledger(out: Path, volumes: list[Volume]) -> str:
    """Write the ledger part; returns the chain's hash algorithm."""
    fonds = volumes[0].org_unit.code
    chain = Chain.objects.get(fonds=fonds)
    checkpoint = Checkpoint.objects.filter(chain=chain).order_by("-tree_size").first()
    assert checkpoint is not None
    subjects = Q(pk__in=[])
    for volume in volumes:
        subjects |= subjects_q(volume.batch, volume.nomination, volume.pk)
    # Destruction records excuse the files they destroyed; the verifier looks for them.
    dispositions = Disposition.objects.filter(items__volume__in=volumes).values_list("pk", flat=True).distinct()
    subjects |= Q(subject_type="disposition", subject_id__in=[str(pk) for pk in dispositions])
    events = list(
        Event.objects.filter(chain=chain, seq__lte=checkpoint.tree_size)
        .filter(subjects | Q(seq=1) | Q(action__startswith="signing_key."))
        .order_by("seq")
    )
    leaves = [
        merkle.leaf_hash(bytes.fromhex(h), chain.algorithm)
        for h in Event.objects.filter(chain=chain, seq__lte=checkpoint.tree_size)
        .order_by("seq")
        .values_list("hash", flat=True)
    ]
    prover = merkle.Prover(leaves, chain.algorithm)
    rows = [ledger_selectors.event_row(chain, e) for e in events]
    ledger = out / "ledger"
    ledger.mkdir(parents=True)
    _jsonl(ledger / "events.jsonl", (asdict(r) for r in rows))
    seqs = {e.seq for e in events}
    _jsonl(
        ledger / "signatures.jsonl",
        (asdict(s) for s in ledger_selectors.signature_rows(chain) if s.seq in seqs),
    )
    _jsonl(
        ledger / "proofs.jsonl",
        (
            {
                "fonds": fonds,
                "seq": e.seq,
                "tree_size": checkpoint.tree_size,
                "path": [p.hex() for p in prover.proof(e.seq - 1)],
            }
            for e in events
        ),
    )
    cp = {
        "fonds": fonds,
        "tree_size": checkpoint.tree_size,
        "root": checkpoint.root,
        "timestamp": checkpoint.timestamp,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "algorithm": chain.algorithm,
    }
    (ledger / "checkpoints.json").write_text(json.dumps([cp], ensure_ascii=False, indent=1), encoding="utf-8")
    registry = Registry()
    for row in rows:
        registry.learn(row)
    keys = [
        {
            "fonds": k.fonds,
            "key_id": k.key_id,
            "owner": k.owner,
            "public_key": k.public_key.hex(),
            "valid_from": k.valid_from,
            "valid_until": k.valid_until,
        }
        for k in [*registry.system.values(), *registry.keys.values()]
    ]
    (ledger / "keys.json").write_text(json.dumps(keys, ensure_ascii=False, indent=1), encoding="utf-8")
    return chain.algorithm


def _files(out: Path, volume: Volume) -> dict[int, str]:
    paths: dict[int, str] = {}
    base = out / "volumes" / safe_name(volume.code)
    (base / "items").mkdir(parents=True)
    for item in volume.items.filter(destroyed=False).order_by("position"):
        if not item.sha256:
            continue
        rel = item_path(volume, item)
        with storage.open_material(item.sha256) as src, (out / rel).open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        paths[item.pk] = rel
    cat = selectors.catalogue(volume)
    (base / "catalogue.pdf").write_bytes(render_catalogue(cat))
    (base / "catalogue.xlsx").write_bytes(catalogue_xlsx(cat))
    return paths


def write_sm3_manifest(bag_dir: Path) -> None:
    lines = []
    for path in sorted((bag_dir / "data").rglob("*")):
        if path.is_file():
            h = hashlib.new("sm3")
            with path.open("rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):  # type: ignore[misc]
                    h.update(chunk)
            lines.append(f"{h.hexdigest()}  {path.relative_to(bag_dir).as_posix()}\n")
    (bag_dir / "manifest-sm3.txt").write_text("".join(lines), encoding="utf-8")
    tags = []
    for name in sorted(p.name for p in bag_dir.iterdir() if p.is_file() and not p.name.startswith("tagmanifest-")):
        tags.append(f"{hashlib.sha256((bag_dir / name).read_bytes()).hexdigest()}  {name}\n")
    (bag_dir / "tagmanifest-sha256.txt").write_text("".join(tags), encoding="utf-8")


def write_package(out: Path, volumes: list[Volume]) -> dict[str, Any]:
    """Write the package into ``out`` (a new or empty directory). Volumes must be archived, one fonds."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[int, str] = {}
    for volume in volumes:
        paths.update(_files(out, volume))
    algorithm = _ledger(out, volumes)
    (out / "metadata.xml").write_bytes(_metadata(volumes, paths))
    unit = volumes[0].org_unit
    bagit.make_bag(
        str(out),
        {
            "Source-Organization": unit.name,
            "External-Identifier": " ".join(v.code for v in volumes),
            "Bag-Software-Agent": "Jishi 纪实 (bagit 1.9.0)",
            "Jishi-Package-Format": FORMAT,
        },
        checksums=["sha256"],
    )
    if algorithm == "sm3":
        write_sm3_manifest(out)
    return {"volumes": [v.code for v in volumes], "files": len(paths), "algorithm": algorithm}
