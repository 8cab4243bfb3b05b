"""File formats allowed for archiving: recognising them by content and checking that a file really opens (U2).

Checks stay bounded: PDFs are parsed by pypdf from the open file (not read into memory), Office/OFD packages only
through their zip directory and a few small members, text formats only up to the metadata size limit.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import logging
import os
import warnings
import zipfile
from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from jishi.core import safe_zip

from .files import CHUNK, Limits, UnsafePath, open_regular, path_problem

EXTENSIONS: dict[str, tuple[str, ...]] = {
    "PDF": (".pdf",),
    "OFD": (".ofd",),
    "JSON": (".json",),
    "XML": (".xml",),
    "XLSX": (".xlsx",),
    "DOCX": (".docx",),
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "TIFF": (".tif", ".tiff"),
    "TXT": (".txt",),
}
ALLOWED = tuple(EXTENSIONS)
ZIP_MEMBERS = {"XLSX": ("[Content_Types].xml",), "DOCX": ("[Content_Types].xml",), "OFD": ("OFD.xml",)}
MAX_ZIP_MEMBERS = 100_000
MAX_ZIP_XML = 16 * 1024 * 1024
_WHITESPACE = b"\xef\xbb\xbf \t\r\n"


def format_of_path(path: str) -> str | None:
    lower = path.lower()
    return next((fmt for fmt, exts in EXTENSIONS.items() if lower.endswith(exts)), None)


def content_matches(fmt: str, head: bytes) -> bool:
    """Whether the first bytes of a file look like ``fmt`` (A2: 格式信息 agrees with the content)."""
    stripped = head.lstrip(_WHITESPACE)
    return {
        "PDF": head.startswith(b"%PDF-"),
        "OFD": head.startswith(b"PK\x03\x04"),
        "XLSX": head.startswith(b"PK\x03\x04"),
        "DOCX": head.startswith(b"PK\x03\x04"),
        "JSON": stripped[:1] in (b"{", b"["),
        "XML": stripped[:1] == b"<",
        "PNG": head.startswith(b"\x89PNG\r\n\x1a\n"),
        "JPEG": head.startswith(b"\xff\xd8\xff"),
        "TIFF": head[:4] in (b"II*\x00", b"MM\x00*"),
        "TXT": b"\x00" not in head,
    }.get(fmt, False)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """pypdf reports recoverable damage through logging and warnings; the report says what matters."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _tail(fh: BinaryIO, size: int = 1024) -> bytes:
    end = os.fstat(fh.fileno()).st_size
    fh.seek(max(0, end - size))
    return fh.read(size)


def _pdf(fh: BinaryIO) -> str | None:
    if fh.read(5) != b"%PDF-":
        return "不以 %PDF- 开头，不是 PDF 文件"
    if b"%%EOF" not in _tail(fh):
        return "文件末尾缺少 %%EOF：PDF 不完整（可能被截断）"
    fh.seek(0)
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is optional for the standalone verifier
        return None
    try:
        with _quiet():
            reader = PdfReader(fh, strict=False)
            if reader.is_encrypted:
                return "PDF 已加密，无法长期保存和利用"
            if len(reader.pages) == 0:
                return "PDF 没有页面"
    except Exception as exc:  # pypdf raises many kinds of errors on damaged input
        return f"PDF 无法解析（{type(exc).__name__}）"
    return None


def _zip(fh: BinaryIO, fmt: str) -> str | None:
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        return f"不是有效的 ZIP 包，无法作为 {fmt} 打开（可能已损坏或被加密）"
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            return "ZIP 包成员过多"
        names = set()
        for info in infos:
            name = info.filename.rstrip("/")
            problem = path_problem(name)
            if problem:
                return f"ZIP 包成员路径不安全（{problem}）"
            if info.flag_bits & 0x1:
                return f"ZIP 包成员 {name} 已加密"
            names.add(name)
        try:  # bombs, links, duplicate names, nested archives: the same checks as an upload (jishi.core.safe_zip)
            safe_zip.check(archive)
        except safe_zip.UnsafeZip as exc:
            return exc.message.rstrip("。")
        for member in ZIP_MEMBERS.get(fmt, ()):
            if member not in names:
                return f"缺少 {member}，不是有效的 {fmt} 文件"
            if archive.getinfo(member).file_size > MAX_ZIP_XML:
                return f"{member} 过大"
            try:
                SafeET.fromstring(archive.read(member), forbid_dtd=True)
            except (DefusedXmlException, ParseError, zipfile.BadZipFile, OSError, ValueError, EOFError):
                return f"{member} 无法读取或不是格式正确的 XML"
    return None


def _bounded(fh: BinaryIO, limits: Limits) -> bytes | None:
    data = fh.read(limits.max_metadata_bytes + 1)
    return None if len(data) > limits.max_metadata_bytes else data


def _text_like(fh: BinaryIO, fmt: str, limits: Limits) -> str | None:
    if fmt == "TXT":
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(CHUNK):
                if b"\x00" in chunk:
                    return "文本文件含 NUL 字符"
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "不是 UTF-8 文本"
        return None
    data = _bounded(fh, limits)
    if data is None:
        return f"文件超过 {limits.max_metadata_bytes} 字节的解析上限，未能核验"
    try:
        if fmt == "JSON":
            json.loads(data.decode("utf-8-sig"))
        else:
            SafeET.fromstring(data, forbid_dtd=True)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "不是有效的 JSON" if fmt == "JSON" else "不是格式正确的 XML"
    except (DefusedXmlException, ParseError):
        return "不是格式正确的 XML，或含有被禁止的 DTD/实体"
    return None


def _image(fh: BinaryIO, fmt: str) -> str | None:
    head = fh.read(16)
    if not content_matches(fmt, head):
        return f"文件头不是 {fmt} 格式"
    # JPEG and TIFF are recognised by magic only: trailing data after a JPEG's end marker is common and harmless.
    if fmt == "PNG" and b"IEND" not in _tail(fh, 64):
        return "PNG 缺少 IEND 块：文件不完整"
    return None


def open_problem(root: str, rel: str, fmt: str, limits: Limits) -> str | None:
    """Why ``rel`` does not open as ``fmt`` (``None`` when it does)."""
    try:
        with open_regular(root, rel) as fh:
            if fmt == "PDF":
                return _pdf(fh)
            if fmt in ZIP_MEMBERS:
                return _zip(fh, fmt)
            if fmt in ("JSON", "XML", "TXT"):
                return _text_like(fh, fmt, limits)
            if fmt in ("PNG", "JPEG", "TIFF"):
                return _image(fh, fmt)
    except (OSError, UnsafePath) as exc:
        return f"无法读取：{exc}"
    return f"格式 {fmt} 不在可归档格式之列，无法核验"
