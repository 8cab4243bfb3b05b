"""Reads of the ledger for verification, evidence panels and witnesses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from jishi.core.storage import file_problem

from . import merkle
from .models import Chain, Checkpoint, Event, Signature, SystemKey
from .proofs import ChainTree
from .verify import (
    SYSTEM_SIGNED,
    Break,
    CheckpointRow,
    EventRow,
    Registry,
    SignatureRow,
    Witness,
    collect_keys,
    verify_chain,
)


def event_row(chain: Chain, e: Event) -> EventRow:
    return EventRow(
        fonds=chain.fonds,
        seq=e.seq,
        prev_hash=e.prev_hash,
        hash=e.hash,
        recorded_at=e.recorded_at.isoformat(),
        actor=e.actor_name,
        action=e.action,
        subject_type=e.subject_type,
        subject_id=e.subject_id,
        payload=e.payload,
    )


def chain_rows(chain: Chain, upto: int | None = None, actions: Iterable[str] | None = None) -> Iterator[EventRow]:
    events = Event.objects.filter(chain=chain)
    if upto is not None:
        events = events.filter(seq__lte=upto)
    if actions is not None:
        events = events.filter(action__in=list(actions))
    # Plain tuples, not model instances: building 19 million Event objects cost a fifth of `ledger verify`.
    fields = ("seq", "prev_hash", "hash", "recorded_at", "actor_name", "action", "subject_type", "subject_id")
    rows = events.order_by("seq").values_list(*fields, "payload")
    for seq, prev_hash, hash_, recorded_at, actor, action, subject_type, subject_id, payload in rows.iterator(
        chunk_size=2000
    ):
        yield EventRow(
            fonds=chain.fonds,
            seq=seq,
            prev_hash=prev_hash,
            hash=hash_,
            recorded_at=recorded_at.isoformat(),
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload,
        )


def signature_rows(chain: Chain, upto: int | None = None) -> Iterator[SignatureRow]:
    signatures = Signature.objects.filter(event__chain=chain)
    if upto is not None:
        signatures = signatures.filter(event__seq__lte=upto)
    qs = signatures.order_by("event__seq", "id").values_list("event__seq", "key_id", "signer", "role", "signature")
    for seq, key_id, signer, role, sig in qs.iterator(chunk_size=2000):
        yield SignatureRow(chain.fonds, seq, key_id, signer, role, sig)


def checkpoint_rows(chain: Chain) -> list[CheckpointRow]:
    return [
        CheckpointRow(chain.fonds, c.tree_size, c.root, c.timestamp, c.key_id, c.signature)
        for c in Checkpoint.objects.filter(chain=chain).order_by("tree_size")
    ]


def key_rows(chain: Chain, upto: int | None = None) -> Iterator[EventRow]:
    """The only events pass 1 learns from (genesis and signing-key events), in chain order.

    Read by action in SQL: streaming every event of a province (19 million) through Python to find a few
    thousand key events took as long as verifying them. Pass 2 still hashes and checks every event, these too.
    """
    return chain_rows(chain, upto=upto, actions=SYSTEM_SIGNED)


def registry() -> Registry:
    """Pass 1: learn every public key from every chain's genesis and key events."""
    return collect_keys(key_rows(chain) for chain in Chain.objects.order_by("fonds"))


def chain_verify(
    chain: Chain,
    *,
    keys: Registry | None = None,
    witnesses: tuple[Witness, ...] = (),
    check_files: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Break | None:
    """First broken place of one chain: events, signatures, checkpoints, witnesses, head and files.

    The chain is verified up to the head ``chain`` was read with: events appended meanwhile by a live system are
    left to the next run, not reported as a break. Events beyond a head that has not moved are a break.
    """
    checkpoints = checkpoint_rows(chain)
    if any(c.tree_size > chain.seq for c in checkpoints) and _head_moved(chain):
        # Made by appends after ``chain`` was read. Had the head not moved, they would prove a truncated tail.
        checkpoints = [c for c in checkpoints if c.tree_size <= chain.seq]
    broken = verify_chain(
        chain_rows(chain, upto=chain.seq),
        chain.algorithm,
        registry=keys if keys is not None else registry(),
        signatures=signature_rows(chain, upto=chain.seq),
        checkpoints=checkpoints,
        witnesses=witnesses,
        head=(chain.seq, chain.head_hash),
        material_check=_material_check(chain) if check_files else None,
        progress=progress,
    )
    if broken is None and Event.objects.filter(chain=chain, seq__gt=chain.seq).exists() and not _head_moved(chain):
        return Break(chain.fonds, chain.seq + 1, "链头之后存在多出的事件（尾部事件缺失或多出）")
    return broken


def _head_moved(chain: Chain) -> bool:
    return Chain.objects.filter(pk=chain.pk).values_list("seq", "head_hash").first() != (chain.seq, chain.head_hash)


def _material_check(chain: Chain) -> Callable[[str], str | None]:
    """Files must exist and match — except those whose destruction a signed disposition event records."""
    import json

    destroyed: set[str] = set()
    for payload in Event.objects.filter(chain=chain, action="archive.disposition_execute").values_list(
        "payload", flat=True
    ):
        destroyed.update(i.get("sha256", "") for i in json.loads(payload).get("items", []))
    return lambda sha: None if sha in destroyed else file_problem(sha)


def witness_for(checkpoint: Checkpoint) -> Witness:
    key = SystemKey.objects.get(fonds=checkpoint.chain.fonds)
    return Witness(
        fonds=checkpoint.chain.fonds,
        algorithm=checkpoint.chain.algorithm,
        tree_size=checkpoint.tree_size,
        root=checkpoint.root,
        timestamp=checkpoint.timestamp,
        key_id=checkpoint.key_id,
        public_key=key.public_key,
        signature=checkpoint.signature,
    )


def evidence(events: list[Event]) -> list[dict[str, object]]:
    """Each event with its signatures and its RFC 9162 inclusion proof against the latest checkpoint."""
    if not events:
        return []
    chain = events[0].chain
    checkpoint = Checkpoint.objects.filter(chain=chain).order_by("-tree_size").first()
    tree = ChainTree(chain, checkpoint.tree_size) if checkpoint is not None else None
    result = []
    for event in events:
        item: dict[str, object] = {"event": event, "signatures": list(event.signatures.all()), "checkpoint": None}
        if tree is not None and checkpoint is not None and event.seq <= checkpoint.tree_size:
            proof = tree.inclusion_proof(event.seq - 1)
            item.update(
                {
                    "checkpoint": checkpoint,
                    "proof": [p.hex() for p in proof],
                    # The event's own hash, not the tree's copy: a changed row must not pass.
                    "included": merkle.verify_inclusion(
                        merkle.leaf_hash(bytes.fromhex(event.hash), chain.algorithm),
                        event.seq - 1,
                        checkpoint.tree_size,
                        proof,
                        bytes.fromhex(checkpoint.root),
                        chain.algorithm,
                    ),
                }
            )
        result.append(item)
    return result


def events_for(subject_type: str, subject_id: str | int) -> list[Event]:
    return list(
        Event.objects.filter(subject_type=subject_type, subject_id=str(subject_id))
        .select_related("chain")
        .prefetch_related("signatures")
        .order_by("recorded_at")
    )


def consistency_evidence(chain: Chain, old: Checkpoint, new: Checkpoint) -> dict[str, object]:
    """RFC 9162 §2.1.4 consistency proof that checkpoint ``new`` extends checkpoint ``old``."""
    proof = ChainTree(chain, new.tree_size).consistency_proof(old.tree_size)
    ok = merkle.verify_consistency(
        old.tree_size, new.tree_size, bytes.fromhex(old.root), bytes.fromhex(new.root), proof, chain.algorithm
    )
    return {"old": old, "new": new, "proof": [p.hex() for p in proof], "consistent": ok}
