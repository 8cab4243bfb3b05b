"""Kept subtree roots (jishi.ledger.proofs): the same proofs as from every leaf, fewer reads, no forgery."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from jishi.core.testing import World
from jishi.ledger import merkle, proofs
from jishi.ledger.models import Chain, Checkpoint, Event
from jishi.ledger.selectors import consistency_evidence, evidence
from jishi.ledger.services import checkpoint_create, event_append


def _fill_chain(world: World, count: int) -> Chain:
    for i in range(count):
        with transaction.atomic():
            event_append(
                fonds=world.city.code, actor=world.alice, action="test.note", subject_type="test", subject_id=i,
                payload={},
            )  # fmt: skip
    return Chain.objects.get(fonds=world.city.code)


def _checkpoint(world: World) -> Checkpoint:
    with transaction.atomic():
        return checkpoint_create(chain=Chain.objects.select_for_update().get(fonds=world.city.code))


def _all_leaves(chain: Chain, size: int) -> list[bytes]:
    hashes = Event.objects.filter(chain=chain, seq__lte=size).order_by("seq").values_list("hash", flat=True)
    return [merkle.leaf_hash(bytes.fromhex(h), chain.algorithm) for h in hashes]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proofs, "KEPT_FROM", 4)  # many kept levels in a chain a test can afford
    proofs.forget()


def test_proofs_from_kept_roots_equal_the_proofs_from_every_leaf(world: World, small_blocks: None):
    chain = _fill_chain(world, 75)
    size = chain.seq
    leaves = _all_leaves(chain, size)
    tree = proofs.ChainTree(chain, size)
    assert tree.root() == merkle.root_from_leaf_hashes(leaves, chain.algorithm)
    for index in range(size):
        assert tree.inclusion_proof(index) == merkle.inclusion_proof(leaves, index, chain.algorithm)
    for old in range(size + 1):
        assert tree.consistency_proof(old) == merkle.consistency_proof(leaves, old, size, chain.algorithm)


def test_a_second_proof_reads_one_block_of_leaves_not_the_chain(world: World, small_blocks: None):
    chain = _fill_chain(world, 130)
    proofs.ChainTree(chain, chain.seq).inclusion_proof(3)  # fills the kept roots
    with CaptureQueriesContext(connection) as queries:
        proofs.ChainTree(chain, chain.seq).inclusion_proof(70)
    leaf_reads = [q["sql"] for q in queries.captured_queries if '"ledger_event"."hash"' in q["sql"]]
    assert len(leaf_reads) == 3  # the genesis hash, the leaf's block and the last, partial block


def test_a_changed_event_is_not_shown_as_included_although_its_neighbours_roots_are_kept(
    world: World, small_blocks: None
):
    chain = _fill_chain(world, 40)
    _checkpoint(world)
    events = list(Event.objects.filter(chain=chain, seq__in=[10, 30]).order_by("seq"))
    assert [item["included"] for item in evidence(events)] == [True, True]  # roots now kept

    changed = events[1]
    changed.hash = "0" * 64  # as a forger editing the row would leave it (the triggers are not the point here)

    first, second = evidence([events[0], changed])
    assert first["included"] is True
    assert second["included"] is False


def test_the_ledger_page_consistency_proof_still_verifies(world: World, small_blocks: None):
    _fill_chain(world, 20)
    old = _checkpoint(world)
    chain = _fill_chain(world, 33)
    new = _checkpoint(world)
    result = consistency_evidence(chain, old, new)
    assert result["consistent"] is True and result["proof"]


def test_verifying_a_chain_while_events_are_appended_reports_no_break(world: World):
    from jishi.ledger.selectors import chain_verify

    chain = _fill_chain(world, 5)  # the head as a verifier reads it before streaming the events
    _fill_chain(world, 3)  # a live system appends meanwhile
    assert chain_verify(chain, check_files=False) is None


def test_events_beyond_a_head_that_did_not_move_are_a_break(world: World):
    from jishi.ledger.selectors import chain_verify

    chain = _fill_chain(world, 5)
    head = (chain.seq, chain.head_hash)
    _fill_chain(world, 2)
    Chain.objects.filter(pk=chain.pk).update(seq=head[0], head_hash=head[1])  # events added behind the head's back
    broken = chain_verify(Chain.objects.get(pk=chain.pk), check_files=False)
    assert broken is not None and broken.seq == head[0] + 1
