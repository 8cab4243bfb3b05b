"""Every ZIP the system accepts (DOCX, XLSX and OFD materials are ZIP containers) passes through here first.

Checked from the central directory, before any member is extracted, and without Django (pure: the standard
library and defusedxml), so the offline verifier can use it too:

- ZIP bombs: the number of entries, the sum of the declared uncompressed sizes (``zipfile`` never inflates a
  member past its declared size, so the sum bounds what any later read produces) and the compression ratio
  of every large member; archives nested in the archive are refused, except the embedded objects Office
  itself writes (``word/embeddings/…``, a chart's workbook), which are checked the same way, one level deep;
- zip slip: absolute paths, ``..`` components, backslashes, drive letters, control characters, duplicate names;
- symbolic links (Unix mode in the external attributes) and encrypted members;
- the type: a ``.docx``/``.xlsx`` is an OOXML package whose ``[Content_Types].xml`` declares the matching main
  part (a macro-enabled ``.docm``/``.xlsm`` renamed to ``.docx`` is refused); an OFD has ``OFD.xml``.

Refusals raise ``UnsafeZip`` with a Chinese sentence for the user; callers turn it into their own error.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import ParseError  # the exception class only; parsing is defusedxml's

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MB = 1024 * 1024
CONTENT_TYPES = "[Content_Types].xml"
# OOXML main-part content types (ECMA-376 Part 1 / MS-OFFCRYPTO); macro-enabled variants are not accepted.
MAIN_PARTS = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
}
# Office writes embedded objects (a chart's data as .xlsx, an inserted document) only under these folders.
EMBEDDING_DIRS = ("word/embeddings/", "xl/embeddings/", "ppt/embeddings/")
ARCHIVE_SUFFIXES = (
    ".zip", ".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".pptm", ".ofd", ".jar", ".apk",
    ".7z", ".rar", ".gz", ".tgz", ".bz2", ".xz", ".tar", ".cab", ".arj", ".lzh",
)  # fmt: skip
ARCHIVE_MAGIC = (b"PK\x03\x04", b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"MSCF")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeZip(ValueError):
    def __init__(self, message: str, *, code: str = "zip_unsafe") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 10_000  # a long OFD has a few files per page
    max_total_bytes: int = 200 * MB
    max_ratio: int = 100
    # Small members may compress far better (an empty sheet, a run of spaces): the ratio is checked above this size.
    ratio_min_bytes: int = 1 * MB
    max_content_types_bytes: int = 1 * MB
    nested_depth: int = 1


def name_problem(name: str) -> str | None:
    """Why an entry name is unsafe to extract anywhere, or None."""
    if not name:
        return "空的路径"
    if _CONTROL.search(name):
        return "含控制字符"
    if "\\" in name:
        return "含反斜杠"
    if name.startswith("/"):
        return "绝对路径"
    if _DRIVE.match(name):
        return "含盘符"
    if any(part == ".." for part in name.split("/")):
        return "含“..”"
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return bool(mode) and stat.S_ISLNK(mode)


def _looks_like_archive(name: str, head: bytes) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES) or head.startswith(ARCHIVE_MAGIC)


def _open(source: Path | BinaryIO) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise UnsafeZip("不是有效的 ZIP 格式文件（可能已损坏）。", code="zip_invalid") from None


def _check(archive: zipfile.ZipFile, limits: ZipLimits, depth: int, budget: int) -> int:
    """Check one archive; returns the uncompressed bytes it declares (against the caller's budget)."""
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise UnsafeZip(
            f"压缩包内文件过多（{len(infos)} 个，上限 {limits.max_entries} 个），疑似压缩炸弹。", code="zip_bomb"
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        problem = name_problem(name)
        if problem:
            raise UnsafeZip(f"压缩包内文件路径不安全（{problem}）：{name[:80]!r}。", code="zip_slip")
        key = name.rstrip("/").lower()
        if key in seen:
            raise UnsafeZip(f"压缩包内有重名文件：{name[:80]}。", code="zip_duplicate")
        seen.add(key)
        if _is_link(info):
            raise UnsafeZip(f"压缩包内含符号链接：{name[:80]}。", code="zip_symlink")
        if info.flag_bits & 0x1:
            raise UnsafeZip(f"压缩包内文件已加密：{name[:80]}。", code="zip_encrypted")
        total += info.file_size
        if total > min(limits.max_total_bytes, budget):
            raise UnsafeZip(
                f"压缩包解压后超过 {limits.max_total_bytes // MB} MB 的上限，疑似压缩炸弹。", code="zip_bomb"
            )
        if info.file_size > limits.ratio_min_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeZip(
                f"压缩包内文件 {name[:80]} 的压缩比超过 {limits.max_ratio} 倍，疑似压缩炸弹。", code="zip_bomb"
            )
    for info in infos:
        if info.is_dir():
            continue
        head = _read(archive, info, 8)
        if not _looks_like_archive(info.filename, head):
            continue
        if depth <= 0 or not info.filename.startswith(EMBEDDING_DIRS):
            raise UnsafeZip(f"压缩包内含有其他压缩包：{info.filename[:80]}。", code="zip_nested")
        if not head.startswith(b"PK\x03\x04"):
            raise UnsafeZip(f"压缩包内嵌入的对象不是 Office 文档：{info.filename[:80]}。", code="zip_nested")
        inner = _open(io.BytesIO(_read(archive, info, info.file_size)))
        with inner:
            budget_left = min(limits.max_total_bytes, budget) - total
            total += _check(inner, limits, depth - 1, budget_left)
    return total


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes:
    try:
        with archive.open(info) as fh:
            return fh.read(size)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        raise UnsafeZip(
            f"压缩包内文件无法读取（已损坏或压缩方式不受支持）：{info.filename[:80]}。", code="zip_invalid"
        ) from None


def _content_types(archive: zipfile.ZipFile, limits: ZipLimits) -> dict[str, str]:
    """``[Content_Types].xml`` as part name → content type (Override entries), parsed with defusedxml."""
    try:
        info = archive.getinfo(CONTENT_TYPES)
    except KeyError:
        return {}
    if info.file_size > limits.max_content_types_bytes:
        raise UnsafeZip("[Content_Types].xml 过大，不是正常的 Office 文档。", code="zip_type")
    try:
        root = SafeET.fromstring(
            _read(archive, info, info.file_size), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, ParseError):
        raise UnsafeZip("[Content_Types].xml 不是格式正确的 XML，不是正常的 Office 文档。", code="zip_type") from None
    overrides = {}
    for element in root:
        if str(element.tag).rsplit("}", 1)[-1] == "Override":
            overrides[element.get("PartName", "").lstrip("/")] = element.get("ContentType", "").strip().lower()
    return overrides


def container_kind(archive: zipfile.ZipFile, limits: ZipLimits) -> str | None:
    """``docx``, ``xlsx`` or ``ofd`` when the archive really is that container, else None."""
    names = set(archive.namelist())
    for kind, (part, content_type) in MAIN_PARTS.items():
        if part in names:
            if _content_types(archive, limits).get(part) != content_type:
                raise UnsafeZip(
                    "文件声明的类型不是普通的 Word/Excel 文档（可能是含宏的文档改了扩展名）。", code="zip_type"
                )
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise UnsafeZip("文件含有宏（vbaProject.bin），不予接收。", code="zip_macro")
            return kind
    if "OFD.xml" in names:
        return "ofd"
    return None


def check(archive: zipfile.ZipFile, *, limits: ZipLimits | None = None) -> None:
    """Bombs, unsafe names, links, encryption and nested archives of an open archive (raises ``UnsafeZip``)."""
    limits = limits or ZipLimits()
    _check(archive, limits, limits.nested_depth, limits.max_total_bytes)


def inspect(source: Path | BinaryIO, *, limits: ZipLimits | None = None) -> str | None:
    """Check the archive (raises ``UnsafeZip``) and return its container kind (``docx``/``xlsx``/``ofd``) or None."""
    limits = limits or ZipLimits()
    with _open(source) as archive:
        check(archive, limits=limits)
        return container_kind(archive, limits)
