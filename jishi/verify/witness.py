"""A5 against checkpoints kept outside (``--witness``): pins each unit's system key, so a chain rebuilt
wholesale under a new key — which the package alone cannot reveal — fails."""

from __future__ import annotations

from collections.abc import Iterable

from jishi.ledger import signing
from jishi.ledger.verify import Witness

from .chain import ChainState
from .ledger_files import Ledger
from .report import Report


def check_witnesses(witnesses: Iterable[Witness], ledger: Ledger, state: ChainState, report: Report) -> None:
    for w in witnesses:
        where = f"见证检查点（全宗 {w.fonds}，树大小 {w.tree_size}）"
        key = state.registry.system.get(w.fonds)
        if key is None:
            report.add("A5", where, "信息包中没有该全宗经核验的创世事件")
            continue
        message = signing.checkpoint_message(
            fonds=w.fonds, tree_size=w.tree_size, root_hex=w.root, timestamp=w.timestamp, algorithm=w.algorithm
        )
        try:
            ok = signing.verify(bytes.fromhex(w.public_key), message, bytes.fromhex(w.signature))
        except ValueError:
            ok = False
        if not ok:
            report.add("A5", where, "见证检查点本身的签名无效")
        elif key.public_key.hex() != w.public_key:
            report.add("A5", where, "信息包的单位系统公钥与见证检查点不符：台账被整体重建")
        elif (cp := ledger.checkpoints.get(w.fonds)) and cp[0].tree_size == w.tree_size and cp[0].root != w.root:
            report.add("A5", where, "同一树大小下，信息包检查点的根哈希与见证不符：历史被改写")
