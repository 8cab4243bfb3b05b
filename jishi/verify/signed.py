"""A7: metadata.xml against what the organizer and the checker signed.

Recomputing every manifest makes a forged metadata.xml pass A1, but it cannot re-sign the ledger: the
``archive.volume_accept`` event lists each item's 件号, 档号, 题名, digest and pages under the checker's
signature, and the ``archive.volume_organize`` event lists the same items under the organizer's. Material items
must also carry the digest their ``material.register`` event recorded when the file was uploaded.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from jishi.ledger.verify import EventRow

from .ledger_files import Ledger
from .metadata import EventRef, Item, Metadata, Volume
from .report import Report

ACCEPT = "archive.volume_accept"
ORGANIZE = "archive.volume_organize"


def signed_event(
    ref: EventRef | None, action: str, ledger: Ledger, report: Report, check: str, where: str
) -> tuple[EventRow, dict[str, Any]] | None:
    """The referenced event and its payload object, or ``None`` after reporting why not."""
    what = "验收事件" if action == ACCEPT else "整理事件" if action == ORGANIZE else "台账事件"
    if ref is None or ref.seq is None:
        report.add(check, where, f"元数据未给出有效的{what}（全宗号、事件序号）")
        return None
    row = ledger.events.get((ref.fonds, ref.seq))
    if row is None:
        report.add(check, where, f"{what} {ref.label} 不在信息包的台账中")
        return None
    if row.action != action:
        report.add(check, where, f"{ref.label} 是 {row.action} 事件，不是{what}（{action}）")
        return None
    try:
        payload = json.loads(row.payload)
    except (ValueError, RecursionError):
        payload = None
    if not isinstance(payload, dict):
        report.add(check, where, f"{what} {ref.label} 的内容不是 JSON 对象")
        return None
    return row, payload


def _items(payload: dict[str, Any], report: Report, where: str) -> list[dict[str, Any]] | None:
    items = payload.get("items")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        report.add("A7", where, "签名事件的 items 不是对象数组")
        return None
    return items


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _as_int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _item_differences(item: Item, signed: dict[str, Any]) -> list[str]:
    differences = []
    if _as_int(item.get("件号")) != signed.get("number"):
        differences.append(f"件号（元数据 {item.get('件号')}，签名 {signed.get('number')}）")
    if item.get("题名") != _text(signed.get("title")):
        differences.append(f"题名（元数据“{item.get('题名')}”，签名“{_text(signed.get('title'))}”）")
    if item.get("数字摘要") != _text(signed.get("sha256")):
        differences.append("数字摘要")
    if _as_int(item.get("页数")) != signed.get("pages"):
        differences.append(f"页数（元数据 {item.get('页数')}，签名 {signed.get('pages')}）")
    if item.get("保管期限") != _text(signed.get("retention")):
        differences.append("保管期限")
    if item.get("纪实项目") != _text(signed.get("item")):
        differences.append("纪实项目")
    if item.get("文件类型") != _text(signed.get("type")):
        differences.append("文件类型")
    return differences


def _volume_fields(volume: Volume, payload: dict[str, Any], role: str, report: Report, what: str) -> None:
    where = volume.label
    expected = {"volume": volume.code, "kind": volume.kind, "batch": volume.get("批次编号"), "role": role}
    if what == "验收事件":
        expected["nomination"] = volume.get("纪实表编号")
    for key, value in expected.items():
        if _text(payload.get(key)) != value:
            report.add("A7", where, f"{what}中的 {key}（{_text(payload.get(key))}）与元数据（{value}）不符")


def _check_items(volume: Volume, signed_items: list[dict[str, Any]], report: Report) -> None:
    by_code: dict[str, dict[str, Any]] = {}
    for signed in signed_items:
        by_code.setdefault(_text(signed.get("code")), signed)
    seen: set[str] = set()
    for item in volume.items:
        match = by_code.get(item.code)
        if match is None:
            report.add("A7", item.label, "验收事件未列出此件：元数据中多出未经验收签名的文件")
            continue
        seen.add(item.code)
        if item.digest_algorithm not in ("", "sha256"):
            report.add("A7", item.label, "数字摘要算法不是 sha256，无法与验收事件比对")
        differences = _item_differences(item, match)
        if differences:
            report.add("A7", item.label, f"与验收签名事件不符：{'、'.join(differences)}")
    for code in by_code:
        if code not in seen:
            report.add("A7", code or volume.label, "验收签名事件列有此件，元数据中没有")


def _summary(items: list[dict[str, Any]]) -> Counter[tuple[str, ...]]:
    keys = ("title", "sha256", "pages", "retention", "item", "type")
    return Counter(tuple(_text(i.get(k)) for k in keys) for i in items)


def _check_notes(volume: Volume, organize: EventRow | None, accept: EventRow, report: Report) -> None:
    notes = volume.notes or {}
    for label, row in (("整理人", organize), ("检查人", accept)):
        name = notes.get(label, "")
        if row is not None and name and name not in row.actor and row.actor not in name:
            report.add("A7", volume.label, f"备考表{label}“{name}”不是签名事件的操作人“{row.actor}”")


def _check_materials(volume: Volume, ledger: Ledger, report: Report) -> None:
    for item in volume.items:
        if item.ledger is None:
            if item.get("文件类型") == "material":
                report.add("A7", item.label, "材料件缺少台账事件（material.register）引用")
            continue
        found = signed_event(item.ledger, "material.register", ledger, report, "A7", item.label)
        if found is None:
            continue
        recorded = _text(found[1].get("sha256"))
        if recorded != item.get("数字摘要"):
            report.add("A7", item.label, f"数字摘要与登记材料时台账记录的摘要（{item.ledger.label}）不符")


def check_signed(metadata: Metadata, ledger: Ledger, report: Report) -> None:
    for volume in metadata.volumes:
        accept = signed_event(volume.accept, ACCEPT, ledger, report, "A7", volume.label)
        organize = signed_event(volume.organize, ORGANIZE, ledger, report, "A7", volume.label)
        if accept is not None:
            _volume_fields(volume, accept[1], "checker", report, "验收事件")
            accepted = _items(accept[1], report, volume.label)
            if accepted is not None:
                _check_items(volume, accepted, report)
            if organize is not None:
                _volume_fields(volume, organize[1], "organizer", report, "整理事件")
                if organize[0].fonds != accept[0].fonds or organize[0].seq >= accept[0].seq:
                    report.add("A7", volume.label, "整理事件应在同一全宗、验收事件之前")
                organized = _items(organize[1], report, volume.label)
                if organized is not None and accepted is not None and _summary(organized) != _summary(accepted):
                    report.add("A7", volume.label, "验收签名的文件与整理签名的文件不一致")
            _check_notes(volume, organize[0] if organize else None, accept[0], report)
        _check_materials(volume, ledger, report)
