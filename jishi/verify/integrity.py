"""C1–C4: nothing is missing — files, 件号, required documentation items, ledger events.

C4 is what catches a ledger line removed from a re-bagged package: the accept event signs the count and the
digest of every event about the volume's subjects before it, so the package's events must reproduce both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict

from .chain import event_label
from .files import path_problem, printable
from .ledger_files import Ledger
from .metadata import Item, Metadata, Volume
from .report import Report
from .scan import Inventory
from .signed import ACCEPT, signed_event

_CODE_SEPARATORS = re.compile(r"[-·]")


def volume_dir(code: str) -> str:
    """``<VOL>``: the volume code with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", code)


def check_files(metadata: Metadata, inventory: Inventory, report: Report) -> None:
    """C1, plus the S1 finding for any unsafe 计算机文件名 (it is then never opened)."""
    described: set[str] = set()
    for volume in metadata.volumes:
        base = f"data/volumes/{volume_dir(volume.code)}"
        for name in ("catalogue.pdf", "catalogue.xlsx"):
            if f"{base}/{name}" not in inventory.files:
                report.add("C1", f"{base}/{name}", f"案卷 {volume.label} 的归档文件目录缺失")
        for item in volume.items:
            if not item.electronic:
                continue
            if not item.file_name:
                report.add("C1", item.label, "电子件未著录计算机文件名")
                continue
            problem = path_problem(item.file_name)
            if problem:
                report.add("S1", printable(item.file_name), f"元数据中 {item.label} 的计算机文件名不安全：{problem}")
                report.add("C1", item.label, "计算机文件名不安全，文件未检查")
                continue
            described.add(item.data_path)
            if item.data_path not in inventory.files:
                report.add("C1", item.label, f"电子文件 {item.data_path} 缺失")
    for path in inventory.payload_files():
        if path.startswith("data/volumes/") and "/items/" in path and path not in described:
            report.add("C1", path, "文件未在元数据中著录")


def check_destroyed(metadata: Metadata, ledger: Ledger, report: Report) -> None:
    """C1 for items listed as 已销毁: only a signed destruction record in the package excuses a missing file."""
    destroyed: set[tuple[str, str]] = set()
    for row in ledger.events.values():
        if row.action != "archive.disposition_execute":
            continue
        try:
            items = json.loads(row.payload).get("items", [])
        except (ValueError, AttributeError, RecursionError):
            continue
        for entry in items if isinstance(items, list) else []:
            if isinstance(entry, dict):
                destroyed.add((str(entry.get("code", "")), str(entry.get("sha256", ""))))
    for volume in metadata.volumes:
        for item in volume.items:
            if item.destroyed and (item.code, item.get("数字摘要")) not in destroyed:
                report.add("C1", item.label, "著录为已销毁，但信息包中没有经签名的销毁执行记录（文件被删去）")


def _number(item: Item) -> int | None:
    text = item.get("件号")
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def _code_matches(item: Item, number: int) -> bool:
    parts = [item.get(k) for k in ("全宗号", "门类代码", "年度", "保管期限", "机构或问题")]
    default = f"{parts[0]}-{parts[1]}·{parts[2]}-{parts[3]}-{parts[4]}-{number:04d}"
    if item.code == default:
        return True
    # The 档号 format is configurable, but every part must appear in it as its own segment.
    tokens = _CODE_SEPARATORS.split(item.code)
    numbers = {int(t) for t in tokens if t.isascii() and t.isdigit() and len(t) <= 9}
    return all(p and p in tokens for p in parts) and number in numbers


def check_numbers(metadata: Metadata, report: Report) -> None:
    """C2: 件号 contiguous and unique per volume and retention; 档号 built from the item's own parts."""
    codes: dict[str, int] = defaultdict(int)
    fonds = metadata.source.get("全宗号", "")
    for volume in metadata.volumes:
        groups: dict[str, list[tuple[int, Item]]] = defaultdict(list)
        for item in volume.items:
            codes[item.code] += 1
            number = _number(item)
            if number is None or number == 0:
                report.add("C2", item.label, f"件号“{item.get('件号')}”不是正整数")
                continue
            groups[item.get("保管期限")].append((number, item))
            if item.code and not _code_matches(item, number):
                report.add("C2", item.label, "档号与其全宗号、门类代码、年度、保管期限、机构或问题、件号不一致")
            if fonds and item.get("全宗号") != fonds:
                report.add("C2", item.label, f"全宗号 {item.get('全宗号')} 与信息包来源的全宗号 {fonds} 不符")
        for retention, numbered in sorted(groups.items()):
            where = f"{volume.label} 保管期限 {retention}"
            counts: dict[int, int] = defaultdict(int)
            for number, _ in numbered:
                counts[number] += 1
            for number, count in sorted(counts.items()):
                if count > 1:
                    report.add("C2", where, f"件号 {number} 重复 {count} 次")
            present = sorted(counts)
            missing = sorted(set(range(present[0], present[-1] + 1)) - set(present))
            if missing:
                shown = "、".join(str(n) for n in missing[:20])
                report.add("C2", where, f"件号不连续，缺少 {shown}{' 等' if len(missing) > 20 else ''}")
    for code, count in codes.items():
        if code and count > 1:
            report.add("C2", code, f"档号在信息包中出现 {count} 次")


def check_required(metadata: Metadata, ledger: Ledger, report: Report) -> None:
    """C3: every documentation item the signed accept event requires has an item in the volume."""
    for volume in metadata.volumes:
        accept = signed_event(volume.accept, ACCEPT, ledger, report, "C3", volume.label)
        if accept is None:
            continue
        required = accept[1].get("required")
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            report.add("C3", volume.label, "验收事件的 required 不是纪实项目编号数组，无法核验")
            continue
        present = {item.get("纪实项目") for item in volume.items}
        for code in required:
            if code not in present:
                report.add("C3", f"{volume.label} 纪实项目 {code}", "必备的纪实项目没有对应的文件")


def _digest(volume: Volume, ledger: Ledger, fonds: str, before: int, subjects: object) -> tuple[int, str]:
    wanted = set(subjects) if isinstance(subjects, list) and all(isinstance(s, str) for s in subjects) else None
    hashes = [
        row.hash
        for row in ledger.events_of(fonds)
        if row.seq < before
        and row.action != "chain.genesis"
        and not row.action.startswith("signing_key.")
        and (wanted is None or f"{row.subject_type}:{row.subject_id}" in wanted)
    ]
    return len(hashes), hashlib.sha256("\n".join(hashes).encode("utf-8")).hexdigest()


def check_events(metadata: Metadata, ledger: Ledger, report: Report) -> None:
    """C4: the package's events reproduce the count and digest signed at acceptance; nothing dangles."""
    for volume in metadata.volumes:
        accept = signed_event(volume.accept, ACCEPT, ledger, report, "C4", volume.label)
        if accept is None:
            continue
        row, payload = accept
        signed = payload.get("events")
        if not isinstance(signed, dict) or not isinstance(signed.get("count"), int):
            report.add("C4", volume.label, "验收事件未记录相关台账事件的数量与摘要，无法核验")
            continue
        count, digest = _digest(volume, ledger, row.fonds, row.seq, signed.get("subjects"))
        if (count, digest) != (signed["count"], signed.get("digest")):
            report.add(
                "C4",
                volume.label,
                f"验收时签名记录了 {signed['count']} 个相关台账事件，包内相应的有 {count} 个且摘要不符："
                "台账事件缺失、多出或被改动",
            )
    for (fonds, seq), sigs in sorted(ledger.signatures.items()):
        if (fonds, seq) not in ledger.events:
            report.add("C4", event_label(fonds, seq), f"包内有该事件的 {len(sigs)} 个签名，事件本身缺失")
    for fonds, seq in sorted(ledger.proofs):
        if (fonds, seq) not in ledger.events:
            report.add("C4", event_label(fonds, seq), "包内有该事件的包含证明，事件本身缺失")
