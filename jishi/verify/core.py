"""``verify_package``: run every 四性 check over one package and return the report.

The order follows the dependencies: inventory first (nothing is opened before the tree is known), then the tag
files, metadata.xml and the ledger; each later check reads only what those produced. A check that crashes on
input nobody foresaw is recorded as a failure of that check — a hostile package gets a report, not a traceback.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any

from jishi.ledger.verify import Witness

from .bag import ALGORITHMS, Bag, read_bag
from .chain import ChainState, check_chain
from .content import check_manifests, check_metadata_content
from .elements import check_elements
from .files import Digests, Limits
from .integrity import check_destroyed, check_events, check_files, check_numbers, check_required
from .ledger_files import Ledger, read_ledger
from .metadata import Metadata
from .report import Report
from .safety import check_executables, check_unlisted
from .scan import scan
from .signed import check_signed
from .usability import check_content, read_metadata
from .witness import check_witnesses

METADATA_DEPENDENT = ("A2", "A7", "C1", "C2", "C3", "C4", "C5")
LEDGER_DEPENDENT = ("A3", "A4", "A5", "A6", "A7", "C3", "C4")


def _guard(report: Report, check_id: str, step: Callable[..., Any], *args: Any) -> Any:
    try:
        return step(*args)
    except Exception as exc:  # the safety net: any surprise is that check's failure, never a traceback
        report.add(check_id, "（核验程序）", f"核验中遇到无法处理的内容（{type(exc).__name__}: {exc}）")
        return None


def _not_a_package(root: str) -> str | None:
    try:
        if not stat.S_ISDIR(os.stat(root).st_mode):
            return "不是目录"
        if not stat.S_ISREG(os.lstat(os.path.join(root, "bagit.txt")).st_mode):
            return "bagit.txt 不是普通文件"
    except FileNotFoundError:
        return "路径不存在或缺少 bagit.txt"
    except OSError as exc:
        return f"无法访问：{exc.strerror or exc}"
    return None


def _volumes(metadata: Metadata | None, bag: Bag | None) -> list[str]:
    if metadata is not None and metadata.volumes:
        return [v.code for v in metadata.volumes]
    return bag.info_value("External-Identifier").split() if bag is not None else []


def _algorithms(bag: Bag, metadata: Metadata | None) -> set[str]:
    wanted = {"sha256", *bag.manifests, *bag.tagmanifests}
    for volume in metadata.volumes if metadata else []:
        wanted.update(i.digest_algorithm for i in volume.items if i.digest_algorithm in ALGORITHMS)
    return wanted


def verify_package(
    path: str | os.PathLike[str], limits: Limits | None = None, witnesses: tuple[Witness, ...] = ()
) -> Report:
    """Check the package at ``path`` (DA/T 70-2018 四性检测); never raises for anything the package contains."""
    limits = limits or Limits()
    # The path the user gave is trusted (it may itself be a link); nothing below it is followed.
    root = os.path.realpath(os.fspath(path))
    report = Report(path=os.fspath(path))
    reason = _not_a_package(root)
    if reason:
        report.is_package, report.reason = False, reason
        return report
    inventory = scan(root, limits, report)
    top = {p for p in inventory.files if "/" not in p}
    bag: Bag = _guard(report, "U1", read_bag, root, top, limits, report) or Bag()
    metadata: Metadata | None = _guard(report, "U1", read_metadata, root, inventory, limits, report)
    ledger: Ledger = _guard(report, "U1", read_ledger, root, limits, report) or Ledger()
    report.volumes = _volumes(metadata, bag)
    digests = Digests(root, _algorithms(bag, metadata), limits.max_file_bytes)

    _guard(report, "S3", check_executables, root, inventory, report)
    _guard(report, "S5", check_unlisted, bag, inventory, report)
    chain: ChainState | None = None
    if ledger.events_readable:
        chain = _guard(report, "A3", check_chain, ledger, report)
    else:
        report.cannot_run(LEDGER_DEPENDENT, "台账事件文件缺失或不可读")
    if witnesses:
        if chain is None:
            report.cannot_run(("A5",), "台账不可读，无法与见证检查点比对")
        else:
            _guard(report, "A5", check_witnesses, witnesses, ledger, chain, report)
    chain_algorithms = set(chain.algorithms.values()) if chain else set()
    _guard(report, "A1", check_manifests, bag, inventory, digests, chain_algorithms, report)
    if metadata is None:
        report.cannot_run(METADATA_DEPENDENT, "metadata.xml 缺失或不可读")
    else:
        _guard(report, "A2", check_metadata_content, root, metadata, inventory, digests, report)
        _guard(report, "C1", check_files, metadata, inventory, report)
        _guard(report, "C2", check_numbers, metadata, report)
        _guard(report, "C5", check_elements, metadata, bag, report)
        if ledger.events_readable:
            _guard(report, "A7", check_signed, metadata, ledger, report)
            _guard(report, "C3", check_required, metadata, ledger, report)
            _guard(report, "C4", check_events, metadata, ledger, report)
            _guard(report, "C1", check_destroyed, metadata, ledger, report)
    _guard(report, "U2", check_content, root, metadata, inventory, limits, report)
    return report
