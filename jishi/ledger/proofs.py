"""Inclusion and consistency proofs over a chain without reading the whole chain on every request.

A complete, aligned subtree of an append-only log (``start`` a multiple of its size, the size a power of two)
never changes once its last event exists, so its root can be kept. Each process keeps the roots of such subtrees
of ``KEPT_FROM`` events and more, computed from the events table the first time they are needed (one indexed
range read of the missing leaves). After that, a proof reads at most one block of ``KEPT_FROM`` leaf hashes by
the (chain, seq) index plus at most log₂ n kept roots — where it used to hash every event of the chain (46 s for
a step page in a 434,600-event chain of the province dataset).

Kept roots are hints, not evidence: every proof is still checked against the signed checkpoint root, so a wrong
kept value can only make a proof fail, never make a changed event look included. ``ledger verify`` reads every
event and keeps nothing.
"""

from __future__ import annotations

import threading

from . import merkle
from .models import Chain, Event

KEPT_FROM = 256  # leaves; kept roots per chain ≈ n / 128 (≈ 3,400 for the largest fonds of the province dataset)

_lock = threading.Lock()
# (chain pk, algorithm, genesis hash) → {(start, size): root}. The genesis hash tells a restored or recreated
# database (or a test's) from the one the roots were computed on.
_kept: dict[tuple[int, str, str], dict[tuple[int, int], bytes]] = {}


def forget() -> None:
    """Drop every kept root (tests; a restored database)."""
    with _lock:
        _kept.clear()


class ChainTree:
    """The RFC 9162 tree over the first ``size`` events of ``chain``, read lazily."""

    def __init__(self, chain: Chain, size: int) -> None:
        self.chain = chain
        self.size = size
        self.algorithm = chain.algorithm
        genesis = Event.objects.filter(chain=chain, seq=1).values_list("hash", flat=True).first() or ""
        with _lock:
            self._kept = _kept.setdefault((chain.pk, chain.algorithm, genesis), {})
        self._blocks: dict[int, list[bytes]] = {}  # this tree's leaf hashes, by block start

    def _leaves(self, start: int, end: int) -> list[bytes]:
        hashes = (
            Event.objects.filter(chain=self.chain, seq__gt=start, seq__lte=end)
            .order_by("seq")
            .values_list("hash", flat=True)
        )
        leaves = [merkle.leaf_hash(bytes.fromhex(h), self.algorithm) for h in hashes]
        if len(leaves) != end - start:
            raise ValueError(f"chain {self.chain.fonds}: events {start + 1}–{end} are not all present")
        return leaves

    def leaf(self, index: int) -> bytes:
        block = index - index % KEPT_FROM
        leaves = self._blocks.get(block)
        if leaves is None:
            leaves = self._blocks[block] = self._leaves(block, min(block + KEPT_FROM, self.size))
        return leaves[index - block]

    def _fill(self, start: int, end: int) -> bytes:
        """Root of a complete aligned subtree from its leaves, keeping every aligned root of KEPT_FROM or more."""
        level = self._leaves(start, end)
        width = 1
        while len(level) > 1:
            level = [merkle.node_hash(level[i], level[i + 1], self.algorithm) for i in range(0, len(level), 2)]
            width *= 2
            if width >= KEPT_FROM:
                self._kept.update(((start + i * width, width), h) for i, h in enumerate(level))
        return level[0]

    def root_of(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])`` for a range the proofs ask for (a subtree of this tree)."""
        size = end - start
        if size == 1:
            return self.leaf(start)
        if size & (size - 1) == 0 and start % size == 0:  # complete and aligned: never changes
            if size >= KEPT_FROM:
                kept = self._kept.get((start, size))
                return kept if kept is not None else self._fill(start, end)
            mid = start + size // 2
        else:
            mid = start + (1 << ((size - 1).bit_length() - 1))
        return merkle.node_hash(self.root_of(start, mid), self.root_of(mid, end), self.algorithm)

    def root(self) -> bytes:
        return self.root_of(0, self.size) if self.size else merkle.empty_root(self.algorithm)

    def inclusion_proof(self, index: int) -> list[bytes]:
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index {index} is outside a tree of size {self.size}")
        return merkle.inclusion_path(self.root_of, index, self.size)

    def consistency_proof(self, old_size: int) -> list[bytes]:
        if not 0 <= old_size <= self.size:
            raise ValueError(f"need 0 <= old_size <= {self.size}, got {old_size}")
        return merkle.consistency_path(self.root_of, old_size, self.size)
