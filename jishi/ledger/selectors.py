from __future__ import annotations

from collections.abc import Iterator

from .models import Chain, Event
from .verify import Break, EventRow, verify_chain


def chain_rows(chain: Chain) -> Iterator[EventRow]:
    for e in Event.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000):
        yield EventRow(
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


def chain_verify(chain: Chain) -> Break | None:
    """First broken place of one chain, also checking that the head matches the last event."""
    problem = verify_chain(chain_rows(chain), chain.algorithm)
    if problem:
        return problem
    last = Event.objects.filter(chain=chain).order_by("-seq").first()
    if (last.seq if last else 0) != chain.seq or (last.hash if last else chain.head_hash) != chain.head_hash:
        return Break(chain.fonds, chain.seq, "链头与最后一个事件不符（尾部事件缺失）")
    return None


def events_for(subject_type: str, subject_id: str | int) -> list[Event]:
    return list(Event.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).order_by("recorded_at"))
