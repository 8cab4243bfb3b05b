"""S3 and S5 (S1, S2 and S4 are found while scanning and reading): no executables, nothing unaccounted for.

An archive must not carry anything that runs: executables are refused by their magic bytes whatever they are
called, and by extension whatever they contain. Every payload file must be in every payload manifest, and only
the known BagIt tag files may sit beside data/.
"""

from __future__ import annotations

from .bag import KNOWN_TAG_FILES, Bag
from .files import UnsafePath, read_head
from .report import Report
from .scan import Inventory

EXECUTABLE_EXTENSIONS = frozenset(
    {
        ".exe",
        ".dll",
        ".bat",
        ".cmd",
        ".sh",
        ".bash",
        ".ps1",
        ".psm1",
        ".js",
        ".jse",
        ".vbs",
        ".vbe",
        ".wsf",
        ".hta",
        ".jar",
        ".class",
        ".com",
        ".scr",
        ".msi",
        ".cpl",
        ".py",
        ".pyc",
        ".pl",
        ".php",
        ".so",
        ".dylib",
        ".apk",
        ".lnk",
    }
)
EXECUTABLE_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "ELF 可执行文件"),
    (b"MZ", "Windows PE 可执行文件"),
    (b"\xfe\xed\xfa\xce", "Mach-O 可执行文件"),
    (b"\xfe\xed\xfa\xcf", "Mach-O 可执行文件"),
    (b"\xce\xfa\xed\xfe", "Mach-O 可执行文件"),
    (b"\xcf\xfa\xed\xfe", "Mach-O 可执行文件"),
    (b"\xca\xfe\xba\xbe", "Mach-O 通用可执行文件或 Java 类文件"),
    (b"#!", "脚本（#! 开头）"),
)


def executable_kind(name: str, head: bytes) -> str | None:
    """What makes this file executable, or ``None``."""
    for magic, kind in EXECUTABLE_MAGICS:
        if head.startswith(magic):
            return kind
    lower = name.lower()
    dot = lower.rfind(".")
    if dot >= 0 and lower[dot:] in EXECUTABLE_EXTENSIONS:
        return f"可执行文件扩展名 {lower[dot:]}"
    return None


def check_executables(root: str, inventory: Inventory, report: Report) -> None:
    """S3 over every regular file in the package, listed or not."""
    for path in sorted(inventory.files):
        try:
            head = read_head(root, path, 8)
        except (OSError, UnsafePath):
            head = b""
        kind = executable_kind(path.rsplit("/", 1)[-1], head)
        if kind:
            report.add("S3", path, f"不允许归档可执行内容：{kind}")


def check_unlisted(bag: Bag, inventory: Inventory, report: Report) -> None:
    """S5: payload files missing from a manifest, and unknown files or folders beside data/."""
    for path in inventory.payload_files():
        for manifest in bag.manifests.values():
            if path not in manifest.entries:
                report.add("S5", path, f"载荷文件未列入 {manifest.name}")
    top = [p for p in [*inventory.files, *inventory.others] if "/" not in p]
    for name in sorted(top):
        entry = inventory.others.get(name)
        if name == "data" and entry is not None and entry.kind == "dir":
            continue
        if name in KNOWN_TAG_FILES and name in inventory.files:
            continue
        report.add("S5", name, "未知的标签文件或目录（只允许 BagIt 标签文件与 data/）")
    if "data" not in inventory.others:
        report.add("S5", "data", "缺少载荷目录 data/")
