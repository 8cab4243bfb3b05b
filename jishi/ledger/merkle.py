"""RFC 9162 §2.1 Merkle trees (the RFC 6962 tree) — standard library only (the standalone verifier imports it).

The tree hash over leaf data ``D[n] = d[0], ..., d[n-1]`` is

* ``MTH({}) = HASH()`` — the hash of the empty string;
* ``MTH({d}) = HASH(0x00 || d)`` — a leaf;
* ``MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` where ``k`` is the largest power of two smaller
  than ``n``.

Generation follows the recursive definitions of §2.1.3.1 (``PATH``) and §2.1.4.1 (``PROOF``/``SUBPROOF``) and raises
``ValueError`` on out-of-range sizes or indices.  Verification follows the step-by-step algorithms of §2.1.3.2 and
§2.1.4.2 literally; it never raises and answers ``False`` for anything malformed.

Every digest is ``bytes``.  ``algorithm`` is ``"sha256"`` (the RFC's choice and the default) or ``"sm3"``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

__all__ = [
    "ALGORITHMS",
    "TreeBuilder",
    "consistency_path",
    "consistency_proof",
    "digest_size",
    "empty_root",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

ALGORITHMS = ("sha256", "sm3")
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

_CONSTRUCTORS: dict[str, Callable[..., Any]] = {
    "sha256": hashlib.sha256,
    "sm3": partial(hashlib.new, "sm3"),
}


def _constructor(algorithm: str) -> Callable[..., Any]:
    try:
        return _CONSTRUCTORS[algorithm]
    except (KeyError, TypeError):
        raise ValueError(f"unsupported hash algorithm {algorithm!r}; expected one of {ALGORITHMS}") from None


def digest_size(algorithm: str = "sha256") -> int:
    """Length in bytes of every hash in a tree built with ``algorithm`` (32 for both sha256 and sm3)."""
    return int(_constructor(algorithm)().digest_size)


def empty_root(algorithm: str = "sha256") -> bytes:
    """``MTH({})``: the hash of the empty string."""
    return bytes(_constructor(algorithm)().digest())


def leaf_hash(data: bytes, algorithm: str = "sha256") -> bytes:
    """``HASH(0x00 || data)``."""
    h = _constructor(algorithm)(LEAF_PREFIX)
    h.update(data)
    return bytes(h.digest())


def node_hash(left: bytes, right: bytes, algorithm: str = "sha256") -> bytes:
    """``HASH(0x01 || left || right)``."""
    h = _constructor(algorithm)(NODE_PREFIX)
    h.update(left)
    h.update(right)
    return bytes(h.digest())


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != size:
        raise ValueError(f"{what} must be {size} bytes long, not {len(value)}")
    return bytes(value)


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


class TreeBuilder:
    """Streams leaf hashes into a tree and gives ``MTH`` of everything appended so far.

    Keeps only the roots of the perfect subtrees that make up the tree (one per set bit of ``size``), so memory
    stays ``O(log n)`` however many leaves go through; each append costs amortised ``O(1)`` hashes.
    """

    __slots__ = ("_algorithm", "_digest_size", "_size", "_stack")

    def __init__(self, algorithm: str = "sha256") -> None:
        self._digest_size = digest_size(algorithm)
        self._algorithm = algorithm
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append_leaf_hash(self, h: bytes) -> None:
        """Append one leaf by its hash ``HASH(0x00 || data)``."""
        self._stack.append(_check_hash(h, self._digest_size, "leaf hash"))
        # Appending leaf number `size` completes one perfect subtree per trailing one bit of `size`.
        n = self._size
        while n & 1:
            right = self._stack.pop()
            left = self._stack.pop()
            self._stack.append(node_hash(left, right, self._algorithm))
            n >>= 1
        self._size += 1

    def append_leaf(self, data: bytes) -> None:
        """Append one leaf by its data."""
        self.append_leaf_hash(leaf_hash(data, self._algorithm))

    def extend_leaf_hashes(self, hashes: Iterable[bytes]) -> None:
        for h in hashes:
            self.append_leaf_hash(h)

    def root(self) -> bytes:
        """``MTH`` of the leaves appended so far (the empty-string hash while there are none)."""
        if not self._stack:
            return empty_root(self._algorithm)
        # The stack holds perfect subtrees of decreasing size, left to right; RFC 9162 splits off the largest
        # power of two first, so the tree hash folds them together from the right.
        acc = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            acc = node_hash(left, acc, self._algorithm)
        return acc


def root_from_leaf_hashes(hashes: Iterable[bytes], algorithm: str = "sha256") -> bytes:
    """``MTH`` given the leaf hashes; consumes any iterable in one pass with ``O(log n)`` memory."""
    builder = TreeBuilder(algorithm)
    builder.extend_leaf_hashes(hashes)
    return builder.root()


def root(leaves: Iterable[bytes], algorithm: str = "sha256") -> bytes:
    """``MTH`` of the leaf *data* (``leaf_hash`` is applied to each)."""
    builder = TreeBuilder(algorithm)
    for data in leaves:
        builder.append_leaf(data)
    return builder.root()


def _subtree_root(hashes: Sequence[bytes], start: int, end: int, algorithm: str) -> bytes:
    """``MTH(D[start:end])`` without copying the slice."""
    builder = TreeBuilder(algorithm)
    for i in range(start, end):
        builder.append_leaf_hash(hashes[i])
    return builder.root()


def inclusion_path(root_of: Callable[[int, int], bytes], index: int, size: int) -> list[bytes]:
    """``PATH(index, D[size])`` from any source of subtree roots ``root_of(start, end)``, leaf's sibling first.

    Every range asked for is a subtree of the RFC 9162 tree; ``start``-aligned ranges whose length is a power of two
    are complete subtrees, which never change once their last leaf exists (what a cache may keep).
    """
    siblings: list[bytes] = []
    start, end = 0, size
    # Walk down from the root; each step keeps the half holding the leaf and records the other half's hash.
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            siblings.append(root_of(mid, end))
            end = mid
        else:
            siblings.append(root_of(start, mid))
            start = mid
    siblings.reverse()
    return siblings


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, algorithm: str = "sha256") -> list[bytes]:
    """``PATH(index, D[n])`` for the tree of all ``leaf_hashes`` (§2.1.3.1), leaf's sibling first."""
    n = len(leaf_hashes)
    index = _check_size(index, "index")
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of size {n}")
    _check_hash(leaf_hashes[index], digest_size(algorithm), "leaf hash")
    return inclusion_path(lambda a, b: _subtree_root(leaf_hashes, a, b, algorithm), index, n)


class Prover:
    """Many inclusion proofs over one tree (an archive export): each subtree root is computed once."""

    def __init__(self, leaf_hashes: Sequence[bytes], algorithm: str = "sha256") -> None:
        self.leaves = leaf_hashes
        self.algorithm = algorithm
        self._memo: dict[tuple[int, int], bytes] = {}

    def _root(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.leaves[start]
        value = self._memo.get((start, end))
        if value is None:
            mid = start + _split(end - start)
            value = node_hash(self._root(start, mid), self._root(mid, end), self.algorithm)
            self._memo[(start, end)] = value
        return value

    def root(self) -> bytes:
        return self._root(0, len(self.leaves)) if self.leaves else empty_root(self.algorithm)

    def proof(self, index: int) -> list[bytes]:
        """The same path as ``inclusion_proof(leaves, index)``."""
        if not 0 <= index < len(self.leaves):
            raise ValueError(f"leaf index {index} is outside a tree of size {len(self.leaves)}")
        return inclusion_path(self._root, index, len(self.leaves))


def consistency_proof(
    leaf_hashes: Sequence[bytes], old_size: int, new_size: int, algorithm: str = "sha256"
) -> list[bytes]:
    """``PROOF(old_size, D[new_size])`` over the first ``new_size`` of ``leaf_hashes`` (§2.1.4.1).

    Empty when ``old_size`` is 0 or equal to ``new_size``: those cases need (and accept) no proof.
    """
    old_size = _check_size(old_size, "old_size")
    new_size = _check_size(new_size, "new_size")
    if not 0 <= old_size <= new_size <= len(leaf_hashes):
        raise ValueError(
            f"need 0 <= old_size <= new_size <= {len(leaf_hashes)} leaves, got old_size={old_size} new_size={new_size}"
        )
    digest_size(algorithm)
    return consistency_path(lambda a, b: _subtree_root(leaf_hashes, a, b, algorithm), old_size, new_size)


def consistency_path(root_of: Callable[[int, int], bytes], old_size: int, new_size: int) -> list[bytes]:
    """``PROOF(old_size, D[new_size])`` from any source of subtree roots ``root_of(start, end)``."""
    if old_size in (0, new_size):
        return []
    # SUBPROOF(m, D[start:end], b) unrolled: `tail` collects the hashes the recursion appends after its inner call.
    tail: list[bytes] = []
    start, end, whole_old_tree = 0, new_size, True
    while old_size != end:
        mid = start + _split(end - start)
        if old_size <= mid:
            tail.append(root_of(mid, end))
            end = mid
        else:
            tail.append(root_of(start, mid))
            start = mid
            whole_old_tree = False
    # Here D[start:end] is a complete subtree of the old tree; the verifier already knows it if it is the old tree.
    head = [] if whole_old_tree else [root_of(start, end)]
    tail.reverse()
    return head + tail


def _verifier_inputs(algorithm: str, proof: object, *hashes: object) -> tuple[list[bytes], list[bytes]] | None:
    """Validate and normalise a verifier's digests; None if anything is the wrong type or length."""
    try:
        size = digest_size(algorithm)
        if isinstance(proof, bytes | bytearray | memoryview | str) or not isinstance(proof, Iterable):
            return None
        nodes = [_check_hash(p, size, "proof node") for p in proof]
        given = [_check_hash(h, size, "hash") for h in hashes]
    except Exception:
        return None
    return nodes, given


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
    algorithm: str = "sha256",
) -> bool:
    """Whether ``proof`` shows the leaf with hash ``leaf_hash`` at ``index`` in the tree of ``tree_size`` with ``root``.

    RFC 9162 §2.1.3.2, step by step.  Never raises: bad types, lengths or sizes give ``False``.
    """
    checked = _verifier_inputs(algorithm, proof, leaf_hash, root)
    if checked is None or not _is_size(index) or not _is_size(tree_size):
        return False
    path, (r, root_hash) = checked
    # 1. Compare leaf_index from the inclusion_proof_v2 structure against tree_size. If leaf_index is greater than
    #    or equal to tree_size, then fail the proof verification.
    if index >= tree_size:
        return False
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = index, tree_size - 1
    # 3. Set r to hash.  (done above)
    # 4. For each value p in the inclusion_path array:
    for p in path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r, algorithm)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn
            #     is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise:
        else:
            # i. Set r to HASH(0x01 || r || p).
            r = node_hash(r, p, algorithm)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the root_hash are equal,
    #    then the log has proven the inclusion of hash. Otherwise, fail the proof verification.
    return sn == 0 and hmac.compare_digest(r, root_hash)


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    algorithm: str = "sha256",
) -> bool:
    """Whether ``proof`` shows the tree ``(old_size, old_root)`` is a prefix of ``(new_size, new_root)``.

    RFC 9162 §2.1.4.2, step by step, for ``0 < old_size < new_size``.  Outside that range: equal sizes need an empty
    proof and equal roots; an empty old tree is a prefix of every tree, with an empty proof (its ``old_root`` is not
    examined beyond its length).  Never raises: bad types, lengths or sizes give ``False``.
    """
    checked = _verifier_inputs(algorithm, proof, old_root, new_root)
    if checked is None or not _is_size(old_size) or not _is_size(new_size):
        return False
    consistency_path, (first_hash, second_hash) = checked
    first, second = old_size, new_size
    if first > second:
        return False
    if first == second:
        return not consistency_path and hmac.compare_digest(first_hash, second_hash)
    if first == 0:
        return not consistency_path
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not consistency_path:
        return False
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if first & (first - 1) == 0:
        consistency_path.insert(0, first_hash)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = consistency_path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in consistency_path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, fr, algorithm)
            # ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, sr, algorithm)
            # iii. If LSB(fn) is not set, then right-shift both fn and sn equally until either LSB(fn) is set or fn
            #      is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise:
        else:
            # i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(sr, c, algorithm)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. After completing iterating through the consistency_path array as described above, verify that the fr
    #    calculated is equal to the first_hash supplied, that the sr calculated is equal to the second_hash
    #    supplied, and that sn is 0.
    return hmac.compare_digest(fr, first_hash) and hmac.compare_digest(sr, second_hash) and sn == 0
