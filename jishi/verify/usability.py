"""U1 (metadata.xml), U2 and U3: the package can be read and its content opened, in formats fit for archiving.

U1 findings about the ledger files and tag files are made while reading them (``ledger_files``, ``bag``);
reading metadata.xml lives here because its failure decides which other checks can run at all.
"""

from __future__ import annotations

from .files import Limits, UnsafePath, read_bounded
from .formats import ALLOWED, format_of_path, open_problem
from .metadata import Metadata, MetadataError, parse_metadata
from .report import Report
from .scan import Inventory

METADATA = "data/metadata.xml"


def read_metadata(root: str, inventory: Inventory, limits: Limits, report: Report) -> Metadata | None:
    entry = inventory.files.get(METADATA)
    if entry is None:
        report.add("U1", METADATA, "缺少 metadata.xml 或它不是普通文件")
        return None
    if entry.size > limits.max_metadata_bytes:
        report.add("S4", METADATA, f"metadata.xml 为 {entry.size} 字节，超过上限 {limits.max_metadata_bytes}")
        report.add("U1", METADATA, "metadata.xml 超过大小上限，未解析")
        return None
    try:
        return parse_metadata(read_bounded(root, METADATA, limits.max_metadata_bytes))
    except (OSError, UnsafePath) as exc:
        report.add("U1", METADATA, f"无法读取：{exc}")
    except MetadataError as exc:
        report.add("U1", METADATA, str(exc))
    return None


def _content_files(metadata: Metadata | None, inventory: Inventory) -> dict[str, str | None]:
    """Content file → declared (or, for files metadata does not describe, extension-derived) format."""
    files: dict[str, str | None] = {}
    for volume in metadata.volumes if metadata else []:
        for item in volume.items:
            if item.electronic and item.file_name and item.data_path in inventory.files:
                files[item.data_path] = item.get("格式信息").upper()
    for path in inventory.payload_files():
        if path.startswith("data/volumes/") and path not in files:
            files[path] = format_of_path(path)
    return files


def check_content(root: str, metadata: Metadata | None, inventory: Inventory, limits: Limits, report: Report) -> None:
    """U2 and U3 over every content file: item files and the catalogues."""
    for path, fmt in sorted(_content_files(metadata, inventory).items()):
        if fmt not in ALLOWED:
            shown = fmt or f"扩展名 {path.rsplit('.', 1)[-1] if '.' in path else '（无）'}"
            report.add("U3", path, f"{shown} 不在可归档格式（{'、'.join(ALLOWED)}）之列")
            continue
        problem = open_problem(root, path, fmt, limits)
        if problem:
            report.add("U2", path, problem)
    for volume in metadata.volumes if metadata else []:
        for item in volume.items:
            fmt = item.get("格式信息").upper()
            if item.electronic and fmt and fmt not in ALLOWED:
                report.add("U3", item.label, f"格式信息 {fmt} 不在可归档格式之列")
