"""RFC 9162 Merkle trees: reference answers, round trips, and proofs that must not verify — pure, no database."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from jishi.ledger.merkle import (
    Prover,
    TreeBuilder,
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)


def dh(text: str) -> bytes:
    return bytes.fromhex(text)


# The RFC 6962 test leaves and tree heads used by google/certificate-transparency and transparency-dev/merkle
# (proof/verify_test.go).
RFC_LEAVES = [dh(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    dh("606162636465666768696a6b6c6d6e6f")
]
RFC_HASHES = [leaf_hash(d) for d in RFC_LEAVES]
RFC_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (leaf index, tree size, proof); transparency-dev numbers leaves from 1, these from 0.
RFC_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]
# (old size, new size, proof)
RFC_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (1, 1, []),
    (8, 8, []),
]

# transparency-dev/merkle proof/proof_test.go lists proofs as tree node ids; here each node is the leaf range
# [start, end) it covers (a "rehash" of several ids is the one range they make up together).
INCLUSION_RANGES = {
    (0, 1): [],
    (0, 2): [(1, 2)],
    (1, 2): [(0, 1)],
    (1, 3): [(0, 1), (2, 3)],
    (0, 7): [(1, 2), (2, 4), (4, 7)],
    (1, 7): [(0, 1), (2, 4), (4, 7)],
    (2, 7): [(3, 4), (0, 2), (4, 7)],
    (3, 7): [(2, 3), (0, 2), (4, 7)],
    (4, 7): [(5, 6), (6, 7), (0, 4)],
    (5, 7): [(4, 5), (6, 7), (0, 4)],
    (6, 7): [(4, 6), (0, 4)],
    (2, 4): [(3, 4), (0, 2)],
    (3, 5): [(2, 3), (0, 2), (4, 5)],
    (3, 6): [(2, 3), (0, 2), (4, 6)],
    (4, 6): [(5, 6), (0, 4)],
    (10, 15): [(11, 12), (8, 10), (12, 15), (0, 8)],
    (24, 31): [(25, 26), (26, 28), (28, 31), (16, 24), (0, 16)],
    (81, 95): [(80, 81), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)],
}
CONSISTENCY_RANGES = {
    (1, 2): [(1, 2)],
    (1, 4): [(1, 2), (2, 4)],
    (1, 6): [(1, 2), (2, 4), (4, 6)],
    (2, 3): [(2, 3)],
    (2, 8): [(2, 4), (4, 8)],
    (3, 7): [(2, 3), (3, 4), (0, 2), (4, 7)],
    (4, 7): [(4, 7)],
    (5, 7): [(4, 5), (5, 6), (6, 7), (0, 4)],
    (6, 7): [(4, 6), (6, 7), (0, 4)],
    (7, 8): [(6, 7), (7, 8), (4, 6), (0, 4)],
    (1, 1): [],
    (5, 5): [],
    (8, 8): [],
    (2, 4): [(2, 4)],
    (3, 5): [(2, 3), (3, 4), (0, 2), (4, 5)],
    (3, 6): [(2, 3), (3, 4), (0, 2), (4, 6)],
    (4, 6): [(4, 6)],
    (1, 7): [(1, 2), (2, 4), (4, 7)],
    (10, 15): [(8, 10), (10, 12), (12, 15), (0, 8)],
    (24, 31): [(16, 24), (24, 31), (0, 16)],
    (81, 95): [(80, 81), (81, 82), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)],
}

MAX = 70
HASHES = [leaf_hash(b"leaf-%d" % i) for i in range(2 * MAX + 2)]
ROOTS = [root_from_leaf_hashes(HASHES[:n]) for n in range(len(HASHES) + 1)]
SOME_HASH = dh("abacaba000000000000000000000000000000000000000000060061e00123456")


# --- Independent transcriptions of the RFC's recursive definitions, used as oracles --------------------------


def k_of(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, recursively."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = k_of(len(hashes))
    return hashlib.sha256(b"\x01" + reference_mth(hashes[:k]) + reference_mth(hashes[k:])).digest()


def path_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), as the leaf range each node covers."""
    if end - start == 1:
        return []
    mid = start + k_of(end - start)
    if index < mid:
        return [*path_ranges(index, start, mid), (mid, end)]
    return [*path_ranges(index, mid, end), (start, mid)]


def subproof_ranges(old: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), as the leaf range each node covers."""
    if old == end:
        return [] if whole else [(start, end)]
    mid = start + k_of(end - start)
    if old <= mid:
        return [*subproof_ranges(old, start, mid, whole), (mid, end)]
    return [*subproof_ranges(old, mid, end, False), (start, mid)]


def proof_ranges(old: int, new: int) -> list[tuple[int, int]]:
    return [] if old in (0, new) else subproof_ranges(old, 0, new, True)


def shape(start: int, end: int, known: dict[tuple[int, int], object]) -> object:
    """How MTH(D[start:end]) is put together from the known nodes (labelled by their place in the proof)."""
    if (start, end) in known:
        return known[(start, end)]
    if end - start <= 1:
        return ("unknown", start, end)
    mid = start + k_of(end - start)
    return (shape(start, mid, known), shape(mid, end, known))


def inclusion_shape(index: int, size: int) -> object:
    known: dict[tuple[int, int], object] = {r: i for i, r in enumerate(path_ranges(index, 0, size))}
    known[(index, index + 1)] = "leaf"
    return shape(0, size, known)


def consistency_shape(old: int, new: int) -> object:
    known: dict[tuple[int, int], object] = {r: i for i, r in enumerate(proof_ranges(old, new))}
    if old & (old - 1) == 0:
        known[(0, old)] = "old"
    return shape(0, old, known), shape(0, new, known)


def range_hashes(ranges: list[tuple[int, int]]) -> list[bytes]:
    return [reference_mth(HASHES[a:b]) for a, b in ranges]


def flip(node: bytes, bit: int) -> bytes:
    out = bytearray(node)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def tampered(proof: list[bytes], extra: bytes) -> list[tuple[str, list[bytes]]]:
    """Every way of dropping, adding or swapping nodes; all of them change the list."""
    out: list[tuple[str, list[bytes]]] = []
    for i in range(len(proof)):
        out.append((f"drop {i}", proof[:i] + proof[i + 1 :]))
    for i in range(len(proof) + 1):
        out.append((f"insert at {i}", [*proof[:i], extra, *proof[i:]]))
        for j, node in enumerate(proof):
            out.append((f"repeat {j} at {i}", [*proof[:i], node, *proof[i:]]))
    for i in range(len(proof)):
        for j in range(i + 1, len(proof)):
            assert proof[i] != proof[j]
            swapped = list(proof)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            out.append((f"swap {i} {j}", swapped))
    out.append(("empty", []))
    return [(what, p) for what, p in out if p != proof]


# --- 1. Reference answers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", sorted(RFC_ROOTS))
def test_the_tree_hash_of_the_rfc_6962_test_leaves_matches_the_reference_for_every_size(size):
    expected = dh(RFC_ROOTS[size])
    assert root(RFC_LEAVES[:size]) == expected
    assert root_from_leaf_hashes(RFC_HASHES[:size]) == expected


def test_the_empty_tree_hashes_to_the_hash_of_the_empty_string():
    assert root([]) == root_from_leaf_hashes([]) == empty_root() == hashlib.sha256(b"").digest()
    assert TreeBuilder().root() == empty_root() and TreeBuilder().size == 0


def test_leaves_and_nodes_are_hashed_behind_distinct_one_byte_prefixes():
    left, right = HASHES[0], HASHES[1]
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert root([b"abc"]) == leaf_hash(b"abc") != hashlib.sha256(b"abc").digest()
    assert root([b"a", b"b"]) == node_hash(leaf_hash(b"a"), leaf_hash(b"b"))


@pytest.mark.parametrize(("index", "size", "proof"), RFC_INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors_and_verify(index, size, proof):
    expected = [dh(x) for x in proof]
    assert inclusion_proof(RFC_HASHES[:size], index) == expected
    assert verify_inclusion(RFC_HASHES[index], index, size, expected, dh(RFC_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), RFC_CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors_and_verify(old, new, proof):
    expected = [dh(x) for x in proof]
    assert consistency_proof(RFC_HASHES, old, new) == expected
    assert verify_consistency(old, new, dh(RFC_ROOTS[old]), dh(RFC_ROOTS[new]), expected)


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION_RANGES))
def test_inclusion_proofs_pick_the_same_subtrees_as_the_reference_and_the_rfc_definition(index, size):
    ranges = INCLUSION_RANGES[(index, size)]
    assert path_ranges(index, 0, size) == ranges
    assert inclusion_proof(HASHES[:size], index) == range_hashes(ranges)


@pytest.mark.parametrize(("old", "new"), sorted(CONSISTENCY_RANGES))
def test_consistency_proofs_pick_the_same_subtrees_as_the_reference_and_the_rfc_definition(old, new):
    ranges = CONSISTENCY_RANGES[(old, new)]
    assert proof_ranges(old, new) == ranges
    assert consistency_proof(HASHES, old, new) == range_hashes(ranges)


# --- 2. Round trips -------------------------------------------------------------------------------------------


def test_the_streaming_root_equals_the_recursive_rfc_definition_for_every_prefix():
    builder = TreeBuilder()
    assert builder.root() == reference_mth([])
    for size, h in enumerate(HASHES, 1):
        builder.append_leaf_hash(h)
        assert builder.size == size
        assert builder.root() == reference_mth(HASHES[:size]) == ROOTS[size]


def test_the_tree_builder_keeps_one_hash_per_set_bit_of_its_size():
    builder = TreeBuilder()
    for size in range(1, 1100):
        builder.append_leaf(b"%d" % size)
        assert len(builder._stack) == bin(size).count("1")


def test_a_generator_of_leaf_hashes_is_consumed_in_one_pass():
    data = [b"entry %d" % i for i in range(3000)]
    hashes = (leaf_hash(d) for d in data)
    assert root_from_leaf_hashes(hashes) == reference_mth([leaf_hash(d) for d in data]) == root(iter(data))


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_every_proof_in_a_tree_of_this_size_verifies(size):
    leaves = HASHES[:size]
    top = root_from_leaf_hashes(leaves)
    assert top == root([b"leaf-%d" % i for i in range(size)])
    for index in range(size):
        assert verify_inclusion(leaves[index], index, size, inclusion_proof(leaves, index), top)
    for old in range(size + 1):
        proof = consistency_proof(leaves, old, size)
        assert len(proof) == len(proof_ranges(old, size))
        assert verify_consistency(old, size, ROOTS[old], top, proof)


# --- 3. Proofs that must not verify ---------------------------------------------------------------------------

INCLUSION_SAMPLE = [(0, 2), (1, 3), (4, 7), (6, 7), (5, 8), (10, 15), (24, 31), (0, 64), (37, 70), (69, 70)]
CONSISTENCY_SAMPLE = [(1, 2), (2, 5), (3, 7), (4, 8), (6, 8), (7, 8), (10, 15), (24, 31), (32, 70), (69, 70)]


@pytest.mark.parametrize(("index", "size"), INCLUSION_SAMPLE)
def test_flipping_any_bit_of_any_inclusion_proof_node_breaks_the_proof(index, size):
    proof = inclusion_proof(HASHES[:size], index)
    for i, node in enumerate(proof):
        for bit in range(len(node) * 8):
            bad = [*proof[:i], flip(node, bit), *proof[i + 1 :]]
            assert not verify_inclusion(HASHES[index], index, size, bad, ROOTS[size]), (i, bit)


@pytest.mark.parametrize(("old", "new"), CONSISTENCY_SAMPLE)
def test_flipping_any_bit_of_any_consistency_proof_node_breaks_the_proof(old, new):
    proof = consistency_proof(HASHES, old, new)
    for i, node in enumerate(proof):
        for bit in range(len(node) * 8):
            bad = [*proof[:i], flip(node, bit), *proof[i + 1 :]]
            assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], bad), (i, bit)


@pytest.mark.parametrize(("index", "size"), INCLUSION_SAMPLE)
def test_dropping_adding_or_swapping_inclusion_proof_nodes_breaks_the_proof(index, size):
    proof = inclusion_proof(HASHES[:size], index)
    for extra in (SOME_HASH, ROOTS[size], HASHES[index], b"", b"\x00" * 31):
        for what, bad in tampered(proof, extra):
            assert not verify_inclusion(HASHES[index], index, size, bad, ROOTS[size]), what


@pytest.mark.parametrize(("old", "new"), CONSISTENCY_SAMPLE)
def test_dropping_adding_or_swapping_consistency_proof_nodes_breaks_the_proof(old, new):
    proof = consistency_proof(HASHES, old, new)
    for extra in (SOME_HASH, ROOTS[old], ROOTS[new], b"", b"\x00" * 33):
        for what, bad in tampered(proof, extra):
            assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], bad), what


@st.composite
def inclusion_cases(draw):
    size = draw(st.integers(min_value=1, max_value=MAX))
    return draw(st.integers(min_value=0, max_value=size - 1)), size


@st.composite
def consistency_cases(draw):
    new = draw(st.integers(min_value=2, max_value=MAX))
    return draw(st.integers(min_value=1, max_value=new - 1)), new


@hypothesis_settings(deadline=None, database=None, max_examples=300)
@given(case=inclusion_cases(), data=st.data())
def test_a_randomly_tampered_inclusion_proof_never_verifies(case, data):
    index, size = case
    proof = inclusion_proof(HASHES[:size], index)
    assert verify_inclusion(HASHES[index], index, size, proof, ROOTS[size])
    extra = data.draw(st.binary(min_size=0, max_size=40) | st.sampled_from(HASHES + ROOTS))
    options = [bad for _, bad in tampered(proof, extra)]
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        options.append([*proof[:i], flip(proof[i], data.draw(st.integers(0, 255))), *proof[i + 1 :]])
    bad = data.draw(st.sampled_from(options))
    assert not verify_inclusion(HASHES[index], index, size, bad, ROOTS[size])


@hypothesis_settings(deadline=None, database=None, max_examples=300)
@given(case=consistency_cases(), data=st.data())
def test_a_randomly_tampered_consistency_proof_never_verifies(case, data):
    old, new = case
    proof = consistency_proof(HASHES, old, new)
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)
    extra = data.draw(st.binary(min_size=0, max_size=40) | st.sampled_from(HASHES + ROOTS))
    options = [bad for _, bad in tampered(proof, extra)]
    i = data.draw(st.integers(0, len(proof) - 1))
    options.append([*proof[:i], flip(proof[i], data.draw(st.integers(0, 255))), *proof[i + 1 :]])
    bad = data.draw(st.sampled_from(options))
    assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], bad)


@hypothesis_settings(deadline=None, database=None, max_examples=300)
@given(case=inclusion_cases(), data=st.data())
def test_an_inclusion_proof_fails_for_any_other_leaf_index_leaf_or_root(case, data):
    index, size = case
    proof = inclusion_proof(HASHES[:size], index)
    other = data.draw(st.integers(-3, size + 3).filter(lambda i: i != index))
    assert not verify_inclusion(HASHES[index], other, size, proof, ROOTS[size])
    other_leaf = data.draw(st.sampled_from(HASHES).filter(lambda h: h != HASHES[index]))
    assert not verify_inclusion(other_leaf, index, size, proof, ROOTS[size])
    other_root = data.draw(st.sampled_from(ROOTS).filter(lambda r: r != ROOTS[size]))
    assert not verify_inclusion(HASHES[index], index, size, proof, other_root)
    assert not verify_inclusion(HASHES[index], index, size, proof, flip(ROOTS[size], data.draw(st.integers(0, 255))))
    assert not verify_inclusion(HASHES[index], index, -size, proof, ROOTS[size])


@hypothesis_settings(deadline=None, database=None, max_examples=300)
@given(case=consistency_cases(), data=st.data())
def test_a_consistency_proof_fails_for_other_roots_reversed_sizes_and_negative_sizes(case, data):
    old, new = case
    proof = consistency_proof(HASHES, old, new)
    wrong_old = data.draw(st.sampled_from(ROOTS).filter(lambda r: r != ROOTS[old]))
    wrong_new = data.draw(st.sampled_from(ROOTS).filter(lambda r: r != ROOTS[new]))
    assert not verify_consistency(old, new, wrong_old, ROOTS[new], proof)
    assert not verify_consistency(old, new, ROOTS[old], wrong_new, proof)
    assert not verify_consistency(old, new, ROOTS[new], ROOTS[old], proof)
    assert not verify_consistency(old, new, ROOTS[old], flip(ROOTS[new], data.draw(st.integers(0, 255))), proof)
    assert not verify_consistency(new, old, ROOTS[new], ROOTS[old], proof)
    assert not verify_consistency(new, old, ROOTS[old], ROOTS[new], proof)
    assert not verify_consistency(new, old, ROOTS[new], ROOTS[old], [])
    assert not verify_consistency(-old, new, ROOTS[old], ROOTS[new], proof)
    assert not verify_consistency(old, -new, ROOTS[old], ROOTS[new], proof)
    assert not verify_consistency(-old, -new, ROOTS[old], ROOTS[new], proof)
    assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], [])


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_a_proof_never_verifies_for_a_neighbouring_tree_size_with_that_trees_root(size):
    """A log cannot reuse a proof for the tree one leaf bigger or smaller: that tree's head does not match."""
    for index in range(size):
        proof = inclusion_proof(HASHES[:size], index)
        for other in (size - 1, size + 1, size * 2, size // 2):
            assert not verify_inclusion(HASHES[index], index, other, proof, ROOTS[other]), (index, other)
    for old in range(1, size):
        proof = consistency_proof(HASHES, old, size)
        for o, n in ((old - 1, size), (old + 1, size), (old, size - 1), (old, size + 1), (old, size * 2)):
            assert not verify_consistency(o, n, ROOTS[o], ROOTS[n], proof), (old, o, n)


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_a_proof_checked_under_another_size_but_the_same_root_verifies_only_if_the_tree_has_the_same_shape(size):
    """The RFC algorithms see the size only through the tree's shape; the signed tree head binds size to root.

    So, as in the reference implementations, the proof for leaf 0 of 5 also "verifies" leaf 0 of 6 against the
    5-leaf root: both trees combine the leaf with the same three nodes in the same order.  Changing the old size,
    doubling or halving the tree, or moving the leaf always fails.
    """
    for index in range(size):
        proof = inclusion_proof(HASHES[:size], index)
        for i, n in ((index, size - 1), (index, size + 1), (index, size * 2), (index, size // 2)):
            same = 0 <= i < n and inclusion_shape(i, n) == inclusion_shape(index, size)
            assert verify_inclusion(HASHES[index], i, n, proof, ROOTS[size]) == same, (index, size, i, n)
            if n in (size * 2, size // 2):
                assert not same
        for i in range(size):
            assert (inclusion_shape(i, size) == inclusion_shape(index, size)) == (i == index)
    for old in range(1, size):
        proof = consistency_proof(HASHES, old, size)
        for o, n in ((old - 1, size), (old + 1, size), (old ^ 2, size), (old, size - 1), (old, size + 1)):
            if 0 < o < n:
                same = consistency_shape(o, n) == consistency_shape(old, size)
                assert verify_consistency(o, n, ROOTS[old], ROOTS[size], proof) == same, (old, size, o, n)
                if o != old:
                    assert not same
        for o, n in ((old, size * 2), (old, size // 2)):
            assert not verify_consistency(o, n, ROOTS[old], ROOTS[size], proof), (old, size, o, n)
    assert verify_inclusion(HASHES[0], 0, 6, inclusion_proof(HASHES[:5], 0), ROOTS[5])


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_an_inclusion_proof_cannot_pass_its_upper_nodes_off_as_part_of_a_smaller_tree(size):
    """Step 4a stops a proof running past the top of the claimed tree.

    Without it, leaf z of the tree (x, y, z) with proof [MTH(x, y)] would "verify" as the only leaf of a
    one-leaf tree whose root is the three-leaf root.
    """
    assert not verify_inclusion(HASHES[2], 0, 1, [ROOTS[2]], ROOTS[3])
    for index in range(size):
        proof = inclusion_proof(HASHES[:size], index)
        start, end = index, index + 1  # the subtree the first `used` proof nodes build up
        for used, (a, b) in enumerate(path_ranges(index, 0, size)):
            claim = (index - start, end - start)
            assert not verify_inclusion(HASHES[index], *claim, proof, ROOTS[size]), (index, size, used)
            start, end = min(start, a), max(end, b)
        assert (start, end) == (0, size)


def test_trivial_consistency_needs_an_empty_proof_and_equal_sizes_need_equal_roots():
    anything = SOME_HASH
    assert verify_consistency(0, 0, ROOTS[0], ROOTS[0], [])
    assert verify_consistency(0, 5, anything, ROOTS[5], [])
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(0, 0, ROOTS[0], ROOTS[1], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[4], [])
    assert not verify_consistency(0, 5, ROOTS[0], ROOTS[5], [ROOTS[0]])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    assert not verify_consistency(1, 0, ROOTS[1], ROOTS[0], [])
    assert not verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])
    assert not verify_consistency(0, 5, b"", ROOTS[5], [])


def test_an_inclusion_proof_in_a_one_leaf_tree_is_empty_and_the_leaf_is_the_root():
    assert inclusion_proof(HASHES[:1], 0) == []
    assert verify_inclusion(HASHES[0], 0, 1, [], ROOTS[1])
    assert not verify_inclusion(HASHES[0], 0, 1, [HASHES[0]], ROOTS[1])
    assert not verify_inclusion(HASHES[0], 1, 1, [], ROOTS[1])
    assert not verify_inclusion(HASHES[0], 0, 0, [], ROOTS[1])
    assert not verify_inclusion(ROOTS[0], 0, 0, [], ROOTS[0])


GARBAGE_SIZES = [-1, None, "3", 3.0, True, 2**70]
GARBAGE_HASHES = [None, "", "00" * 32, b"", b"\x00" * 31, b"\x00" * 33, 5, [b"\x00" * 32]]
GARBAGE_PROOFS = [None, 5, b"\x00" * 64, "ab", [None], ["00" * 32], [b"\x00"], [5], {b"\x00" * 32: 1}.values()]


@pytest.mark.parametrize("value", GARBAGE_SIZES)
def test_verifiers_answer_false_for_a_malformed_size(value):
    index, size = 3, 7
    good = inclusion_proof(HASHES[:size], index)
    assert not verify_inclusion(HASHES[index], value, size, good, ROOTS[size])
    assert not verify_inclusion(HASHES[index], index, value, good, ROOTS[size])
    good = consistency_proof(HASHES, index, size)
    assert not verify_consistency(value, size, ROOTS[index], ROOTS[size], good)
    assert not verify_consistency(index, value, ROOTS[index], ROOTS[size], good)


def test_verifiers_do_not_take_booleans_for_sizes():
    assert verify_inclusion(HASHES[0], 0, 1, [], ROOTS[1])
    assert not verify_inclusion(HASHES[0], False, True, [], ROOTS[1])
    assert verify_consistency(1, 1, ROOTS[1], ROOTS[1], [])
    assert not verify_consistency(True, True, ROOTS[1], ROOTS[1], [])
    assert not verify_consistency(False, 1, ROOTS[0], ROOTS[1], [])


@pytest.mark.parametrize("value", GARBAGE_HASHES)
def test_verifiers_answer_false_for_a_malformed_hash(value):
    index, size = 3, 7
    good = inclusion_proof(HASHES[:size], index)
    assert not verify_inclusion(value, index, size, good, ROOTS[size])
    assert not verify_inclusion(HASHES[index], index, size, good, value)
    assert not verify_inclusion(HASHES[index], index, size, [*good[:-1], value], ROOTS[size])
    good = consistency_proof(HASHES, index, size)
    assert not verify_consistency(index, size, value, ROOTS[size], good)
    assert not verify_consistency(index, size, ROOTS[index], value, good)
    assert not verify_consistency(index, size, ROOTS[index], ROOTS[size], [*good[:-1], value])
    assert not verify_consistency(0, 0, value, value, [])


@pytest.mark.parametrize("value", GARBAGE_PROOFS)
def test_verifiers_answer_false_for_a_malformed_proof(value):
    assert not verify_inclusion(HASHES[3], 3, 7, value, ROOTS[7])
    assert not verify_consistency(3, 7, ROOTS[3], ROOTS[7], value)
    assert not verify_consistency(0, 7, ROOTS[0], ROOTS[7], value)


@pytest.mark.parametrize("algorithm", ["md5", "SHA256", "", None, "sha3_256"])
def test_verifiers_answer_false_and_builders_refuse_for_an_unsupported_algorithm(algorithm):
    proof = inclusion_proof(HASHES[:7], 3)
    assert not verify_inclusion(HASHES[3], 3, 7, proof, ROOTS[7], algorithm)
    assert not verify_consistency(3, 7, ROOTS[3], ROOTS[7], consistency_proof(HASHES, 3, 7), algorithm)
    assert not verify_consistency(7, 7, ROOTS[7], ROOTS[7], [], algorithm)
    for build in (
        lambda: leaf_hash(b"x", algorithm),
        lambda: node_hash(HASHES[0], HASHES[1], algorithm),
        lambda: root([b"x"], algorithm),
        lambda: TreeBuilder(algorithm),
        lambda: inclusion_proof(HASHES[:7], 3, algorithm),
        lambda: consistency_proof(HASHES, 3, 7, algorithm),
    ):
        with pytest.raises(ValueError, match="unsupported hash algorithm"):
            build()


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (0, 0), (9, 5)])
def test_an_inclusion_proof_cannot_be_made_for_a_leaf_outside_the_tree(index, size):
    with pytest.raises(ValueError):
        inclusion_proof(HASHES[:size], index)


@pytest.mark.parametrize(("old", "new"), [(-1, 5), (6, 5), (3, -1), (3, len(HASHES) + 1)])
def test_a_consistency_proof_cannot_be_made_for_impossible_sizes(old, new):
    with pytest.raises(ValueError):
        consistency_proof(HASHES, old, new)


def test_the_tree_builder_refuses_something_that_is_not_a_leaf_hash():
    builder = TreeBuilder()
    with pytest.raises(ValueError):
        builder.append_leaf_hash(b"leaf data, not its hash")
    with pytest.raises(TypeError):
        builder.append_leaf_hash("00" * 32)  # type: ignore[arg-type]
    assert builder.size == 0
    with pytest.raises(ValueError):
        root_from_leaf_hashes([HASHES[0], HASHES[1][:-1]])


# --- 4. SM3 ---------------------------------------------------------------------------------------------------


def test_sm3_trees_hash_with_sm3_and_differ_from_sha256_trees():
    assert empty_root("sm3") == hashlib.new("sm3", b"").digest() != empty_root()
    assert leaf_hash(b"abc", "sm3") == hashlib.new("sm3", b"\x00abc").digest()
    assert node_hash(HASHES[0], HASHES[1], "sm3") == hashlib.new("sm3", b"\x01" + HASHES[0] + HASHES[1]).digest()
    for size in range(9):
        assert root(RFC_LEAVES[:size], "sm3") != dh(RFC_ROOTS[size])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 21, 33])
def test_sm3_proofs_round_trip_and_do_not_verify_as_sha256(size):
    leaves = [leaf_hash(b"leaf-%d" % i, "sm3") for i in range(size)]
    builder = TreeBuilder("sm3")
    roots = [builder.root()]
    for h in leaves:
        builder.append_leaf_hash(h)
        roots.append(builder.root())
    top = root([b"leaf-%d" % i for i in range(size)], "sm3")
    assert top == roots[size] == root_from_leaf_hashes(leaves, "sm3") != ROOTS[size]
    for index in range(size):
        proof = inclusion_proof(leaves, index, "sm3")
        assert verify_inclusion(leaves[index], index, size, proof, top, "sm3")
        if proof:  # a one-leaf tree's root is its leaf hash under any algorithm
            assert not verify_inclusion(leaves[index], index, size, proof, top)
    for old in range(1, size):
        proof = consistency_proof(leaves, old, size, "sm3")
        assert verify_consistency(old, size, roots[old], top, proof, "sm3")
        assert not verify_consistency(old, size, roots[old], top, proof)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 8, 13, 64, 100])
def test_the_caching_prover_gives_the_same_paths_as_inclusion_proof(size):
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(size)]
    prover = Prover(leaves)
    assert prover.root() == root_from_leaf_hashes(leaves)
    for index in range(size):
        assert prover.proof(index) == inclusion_proof(leaves, index)
