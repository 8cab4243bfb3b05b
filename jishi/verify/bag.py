"""The BagIt 1.0 tag files: bagit.txt, bag-info.txt, manifest-<alg>.txt and tagmanifest-<alg>.txt.

Manifest paths are untrusted: each is decoded (BagIt percent-encodes CR, LF and %) and validated before it is
kept; an unsafe one is an S1 finding and is never opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .files import Limits, UnsafePath, is_hex_digest, path_problem, printable, read_bounded
from .report import Report

ALGORITHMS = ("sha256", "sm3")
PACKAGE_FORMAT = "jishi-archive-package-v1"
BAG_INFO_REQUIRED = (
    "Source-Organization",
    "External-Identifier",
    "Bagging-Date",
    "Payload-Oxum",
    "Bag-Software-Agent",
    "Jishi-Package-Format",
)
KNOWN_TAG_FILES = frozenset(
    {"bagit.txt", "bag-info.txt"} | {f"{kind}-{alg}.txt" for kind in ("manifest", "tagmanifest") for alg in ALGORITHMS}
)
# The format says 1.0 (RFC 8493); bagit.py 1.9 still declares 0.97, whose layout is the same for all we check.
BAGIT_VERSIONS = ("1.0", "0.97")
_LINE = re.compile(r"^(\S+)[ \t]+(.+)$")


@dataclass
class Manifest:
    name: str
    algorithm: str
    entries: dict[str, str] = field(default_factory=dict)  # validated path → lower-case hex digest


@dataclass
class Bag:
    declaration: dict[str, str] = field(default_factory=dict)
    info: dict[str, list[str]] = field(default_factory=dict)
    manifests: dict[str, Manifest] = field(default_factory=dict)
    tagmanifests: dict[str, Manifest] = field(default_factory=dict)

    def info_value(self, key: str) -> str:
        values = self.info.get(key) or [""]
        return values[0].strip()


def _text(root: str, name: str, limits: Limits, report: Report, check: str) -> str | None:
    try:
        data = read_bounded(root, name, limits.max_metadata_bytes)
    except FileNotFoundError:
        return None
    except (UnsafePath, OSError) as exc:
        report.add(check, name, f"无法读取：{exc}")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.add(check, name, "不是 UTF-8 文本")
        return None


def _fields(text: str) -> dict[str, list[str]]:
    """``Label: value`` lines; a line starting with whitespace continues the previous value."""
    result: dict[str, list[str]] = {}
    last: tuple[str, int] | None = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and last is not None:
            label, index = last
            result[label][index] += " " + line.strip()
        elif ":" in line:
            label, value = line.split(":", 1)
            label = label.strip()
            result.setdefault(label, []).append(value.strip())
            last = (label, len(result[label]) - 1)
    return result


def _decode_path(raw: str) -> str:
    return raw.replace("%0D", "\r").replace("%0d", "\r").replace("%0A", "\n").replace("%0a", "\n").replace("%25", "%")


def _manifest(root: str, name: str, algorithm: str, limits: Limits, report: Report, payload: bool) -> Manifest:
    manifest = Manifest(name, algorithm)
    text = _text(root, name, limits, report, "A1")
    if text is None:
        return manifest
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None or not is_hex_digest(match.group(1).lower()):
            report.add("A1", f"{name} 第 {number} 行", "清单行格式错误（应为“摘要 路径”）")
            continue
        digest, path = match.group(1).lower(), _decode_path(match.group(2).rstrip("\r"))
        problem = path_problem(path)
        if problem:
            report.add("S1", printable(path), f"{name} 中的路径不安全：{problem}")
            continue
        if payload and not path.startswith("data/"):
            report.add("A1", path, f"{name} 是载荷清单，只能列出 data/ 下的文件")
            continue
        if not payload and (path not in KNOWN_TAG_FILES or path.startswith("tagmanifest-")):
            report.add("A1", path, f"{name} 只能列出 bagit.txt、bag-info.txt 与 manifest 文件")
            continue
        if path in manifest.entries:
            report.add("A1", path, f"在 {name} 中重复出现")
            continue
        manifest.entries[path] = digest
    return manifest


def read_bag(root: str, present: set[str], limits: Limits, report: Report) -> Bag:
    """Parse the tag files present at the top level (``present``: names of regular files there)."""
    bag = Bag()
    text = _text(root, "bagit.txt", limits, report, "U1")
    if text is not None:
        bag.declaration = {k: v[0] for k, v in _fields(text).items()}
        version = bag.declaration.get("BagIt-Version")
        if version not in BAGIT_VERSIONS:
            report.add("U1", "bagit.txt", f"BagIt-Version 为 {version}，应为 1.0")
        if bag.declaration.get("Tag-File-Character-Encoding", "").upper() not in ("UTF-8", "UTF8"):
            report.add("U1", "bagit.txt", "Tag-File-Character-Encoding 应为 UTF-8")
    text = _text(root, "bag-info.txt", limits, report, "U1") if "bag-info.txt" in present else None
    if text is None:
        report.add("C5", "bag-info.txt", "缺少 bag-info.txt 或无法读取")
    else:
        bag.info = _fields(text)
        for key in BAG_INFO_REQUIRED:
            if not bag.info_value(key):
                report.add("C5", "bag-info.txt", f"缺少 {key}")
        fmt = bag.info_value("Jishi-Package-Format")
        if fmt and fmt != PACKAGE_FORMAT:
            report.add("U1", "bag-info.txt", f"Jishi-Package-Format 为 {fmt}，本工具只能核验 {PACKAGE_FORMAT}")
    for algorithm in ALGORITHMS:
        name = f"manifest-{algorithm}.txt"
        if name in present:
            bag.manifests[algorithm] = _manifest(root, name, algorithm, limits, report, payload=True)
        name = f"tagmanifest-{algorithm}.txt"
        if name in present:
            bag.tagmanifests[algorithm] = _manifest(root, name, algorithm, limits, report, payload=False)
    if "sha256" not in bag.manifests:
        report.add("A1", "manifest-sha256.txt", "缺少载荷清单 manifest-sha256.txt")
    if "sha256" not in bag.tagmanifests:
        report.add("A1", "tagmanifest-sha256.txt", "缺少标签清单 tagmanifest-sha256.txt")
    return bag
