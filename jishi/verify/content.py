"""A1 and A2: the bytes on disk against the manifests and against metadata.xml.

Digests come from one shared cache (``files.Digests``), so each file is read once for every algorithm the
package uses, whichever check asks first.
"""

from __future__ import annotations

from .bag import Bag
from .files import Digests, UnsafePath, read_head
from .formats import EXTENSIONS, content_matches, format_of_path
from .metadata import Metadata
from .report import Report
from .scan import Inventory


def _compare(path: str, algorithm: str, expected: str, where: str, digests: Digests, report: Report) -> None:
    got = digests.get(path)
    if isinstance(got, str):
        report.add("A1", path, f"无法核验{where}中的摘要：{got}")
    elif got.get(algorithm) != expected:
        report.add("A1", path, f"{algorithm} 摘要与 {where} 不符（文件被改动）")


def check_manifests(
    bag: Bag, inventory: Inventory, digests: Digests, chain_algorithms: set[str], report: Report
) -> None:
    """A1: every payload and tag manifest entry matches the file's digest; Payload-Oxum matches the payload."""
    for manifest in bag.manifests.values():
        for path, expected in manifest.entries.items():
            if path not in inventory.files:
                what = "不是普通文件，未核验" if path in inventory.others else "清单所列文件不存在"
                report.add("A1", path, f"{what}（{manifest.name}）")
                continue
            _compare(path, manifest.algorithm, expected, manifest.name, digests, report)
    tag_files = sorted(p for p in inventory.files if "/" not in p and not p.startswith("tagmanifest-"))
    for tagmanifest in bag.tagmanifests.values():
        for name in tag_files:
            if name not in tagmanifest.entries and (name.startswith("manifest-") or name.startswith("bag")):
                report.add("A1", name, f"未列入 {tagmanifest.name}")
        for name, expected in tagmanifest.entries.items():
            if name not in inventory.files:
                report.add("A1", name, f"{tagmanifest.name} 所列标签文件不存在")
                continue
            _compare(name, tagmanifest.algorithm, expected, tagmanifest.name, digests, report)
    if "sm3" in chain_algorithms and "sm3" not in bag.manifests:
        report.add("A1", "manifest-sm3.txt", "台账使用 SM3 算法，信息包缺少 manifest-sm3.txt")
    oxum = bag.info_value("Payload-Oxum")
    if oxum:
        octets, count = inventory.payload_octets()
        if oxum != f"{octets}.{count}":
            report.add("A1", "bag-info.txt", f"Payload-Oxum 为 {oxum}，实际载荷为 {octets}.{count}（文件被增删或改动）")


def check_metadata_content(
    root: str, metadata: Metadata, inventory: Inventory, digests: Digests, report: Report
) -> None:
    """A2: each electronic item's 数字摘要, 计算机文件大小 and 格式信息 describe the file really there."""
    for volume in metadata.volumes:
        for item in volume.items:
            path = item.data_path
            if not item.electronic or path not in inventory.files:
                continue  # C1 reports missing files, S1 unsafe names
            got = digests.get(path)
            algorithm = item.digest_algorithm or "sha256"
            if isinstance(got, str):
                report.add("A2", path, f"{item.label}：无法计算数字摘要（{got}）")
            elif algorithm not in got:
                report.add("A2", path, f"{item.label}：不支持的摘要算法 {algorithm}")
            elif got[algorithm] != item.get("数字摘要").lower():
                report.add("A2", path, f"{item.label}：文件内容与元数据的数字摘要不符（文件被改动）")
            size = item.get("计算机文件大小")
            if size != str(inventory.files[path].size):
                report.add(
                    "A2", path, f"{item.label}：计算机文件大小为 {size}，实际为 {inventory.files[path].size} 字节"
                )
            fmt = item.get("格式信息").upper()
            if fmt not in EXTENSIONS:
                continue  # U3 reports formats that are not allowed
            if format_of_path(path) != fmt:
                report.add("A2", path, f"{item.label}：文件扩展名与格式信息 {fmt} 不符")
            try:
                head = read_head(root, path, 16)
            except (OSError, UnsafePath):
                continue
            if not content_matches(fmt, head):
                report.add("A2", path, f"{item.label}：文件内容不是格式信息所称的 {fmt} 格式")
