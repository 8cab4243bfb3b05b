"""Canonical encoding, event hashing and chain verification — pure, no database."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math

import pytest

from jishi.ledger.hashing import GENESIS_PREV, canonical_json, digest, event_body, event_hash
from jishi.ledger.verify import Break, EventRow, verify_chain

PAYLOADS = [
    {"name": "张伟", "current_post": "市发改委副主任"},
    {"batch": "2026年第三批市管干部调整", "positions": [1, 2]},
    {"step": "D01", "fields": {"held_on": "2026-11-27", "opinion_giver": "王书记"}},
    {"votes": {"approve": 7, "oppose": 1}, "note": None},
    {"archived": True},
]


def make_chain(payloads=PAYLOADS, algorithm: str = "sha256", fonds: str = "J001") -> list[EventRow]:
    rows: list[EventRow] = []
    prev = GENESIS_PREV
    for seq, payload in enumerate(payloads, 1):
        fields = {
            "fonds": fonds,
            "seq": seq,
            "prev_hash": prev,
            "recorded_at": f"2026-11-27T09:{seq:02d}:00+08:00",
            "actor": "alice",
            "action": "test.event",
            "subject_type": "batch",
            "subject_id": str(seq),
        }
        body = event_body(**fields, payload=payload)
        row = EventRow(**fields, hash=event_hash(body, algorithm), payload=canonical_json(payload))
        rows.append(row)
        prev = row.hash
    return rows


def rehash(row: EventRow, algorithm: str = "sha256", **changes) -> EventRow:
    """What a careful forger does: change the row and recompute its own hash."""
    row = dataclasses.replace(row, **changes)
    body = event_body(
        fonds=row.fonds,
        seq=row.seq,
        prev_hash=row.prev_hash,
        recorded_at=row.recorded_at,
        actor=row.actor,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        payload=json.loads(row.payload),
    )
    return dataclasses.replace(row, hash=event_hash(body, algorithm))


# ── canonical_json ───────────────────────────────────────────────────────────────────────────


def test_canonical_json_sorts_keys_at_every_level_and_drops_whitespace():
    assert canonical_json({"b": 1, "a": {"z": [3, 1], "y": None}}) == '{"a":{"y":null,"z":[3,1]},"b":1}'


def test_canonical_json_gives_the_same_text_whatever_order_the_keys_were_added_in():
    first = {"name": "张伟", "seq": 1, "payload": {"x": 1, "y": 2}}
    second = {"payload": {"y": 2, "x": 1}, "seq": 1, "name": "张伟"}
    assert canonical_json(first) == canonical_json(second)


def test_canonical_json_keeps_chinese_characters_as_they_are():
    assert canonical_json({"姓名": "张伟"}) == '{"姓名":"张伟"}'
    assert "\\u" not in canonical_json(PAYLOADS)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_canonical_json_refuses_nan_and_infinity(value):
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"score": value})


# ── digest and event_hash ────────────────────────────────────────────────────────────────────


def test_sha256_digest_matches_the_standard_test_vector():
    assert digest(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_sm3_digest_matches_the_gbt_32905_test_vector_and_differs_from_sha256():
    assert digest(b"abc", "sm3") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert digest(b"abc", "sm3") != digest(b"abc", "sha256")


def test_digest_refuses_an_algorithm_it_does_not_offer():
    assert "md5" in hashlib.algorithms_available
    with pytest.raises(ValueError, match="unsupported hash algorithm 'md5'"):
        digest(b"abc", "md5")


def test_the_event_hash_does_not_depend_on_payload_key_order():
    common = {
        "fonds": "J001",
        "seq": 1,
        "prev_hash": GENESIS_PREV,
        "recorded_at": "2026-11-27T09:00:00+08:00",
        "actor": "alice",
        "action": "x",
        "subject_type": "batch",
        "subject_id": "1",
    }
    a = event_hash(event_body(**common, payload={"a": 1, "b": "张"}))
    b = event_hash(event_body(**common, payload={"b": "张", "a": 1}))
    c = event_hash(event_body(**common, payload={"a": 2, "b": "张"}))
    assert a == b
    assert a != c
    assert len(a) == 64


# ── verify_chain ─────────────────────────────────────────────────────────────────────────────


def test_an_untouched_chain_verifies():
    rows = make_chain()
    assert rows[0].prev_hash == GENESIS_PREV
    assert verify_chain(rows) is None


def test_an_empty_chain_verifies():
    assert verify_chain([]) is None


def test_an_edited_payload_is_found_at_its_seq():
    rows = make_chain()
    rows[2] = dataclasses.replace(rows[2], payload=rows[2].payload.replace("王书记", "李书记"))
    assert verify_chain(rows) == Break("J001", 3, "事件内容与哈希不符（记录被改动）")


@pytest.mark.parametrize("field", ["actor", "action", "recorded_at", "subject_id", "fonds"])
def test_an_edited_envelope_field_is_found_at_its_seq(field):
    rows = make_chain()
    rows[1] = dataclasses.replace(rows[1], **{field: getattr(rows[1], field) + "x"})
    found = verify_chain(rows)
    assert found is not None
    assert (found.seq, found.what) == (2, "事件内容与哈希不符（记录被改动）")


def test_a_changed_prev_hash_is_found_at_its_seq():
    rows = make_chain()
    rows[3] = dataclasses.replace(rows[3], prev_hash="f" * 64)
    assert verify_chain(rows) == Break("J001", 4, "前一事件哈希不符")


def test_a_first_event_not_linked_to_genesis_is_refused():
    rows = make_chain()
    rows[0] = rehash(rows[0], prev_hash="1" * 64)
    assert verify_chain(rows) == Break("J001", 1, "前一事件哈希不符")


def test_a_forged_event_with_a_recomputed_hash_is_caught_by_the_next_event():
    rows = make_chain()
    rows[1] = rehash(rows[1], payload='{"name":"李四"}')
    assert verify_chain(rows) == Break("J001", 3, "前一事件哈希不符")


def test_a_gap_in_the_sequence_is_found_where_the_missing_number_should_be():
    rows = make_chain()
    del rows[1]
    assert verify_chain(rows) == Break("J001", 3, "序号不连续，应为 2")


def test_a_missing_last_event_cannot_be_seen_from_the_chain_alone():
    # Truncation at the end leaves a valid shorter chain; that is why the count is anchored elsewhere.
    assert verify_chain(make_chain()[:-1]) is None


def test_a_reordered_pair_is_found_at_the_first_out_of_place_event():
    rows = make_chain()
    rows[1], rows[2] = rows[2], rows[1]
    assert verify_chain(rows) == Break("J001", 3, "序号不连续，应为 2")


def test_a_chain_not_starting_at_one_is_refused():
    assert verify_chain(make_chain()[1:]) == Break("J001", 2, "序号不连续，应为 1")


def test_an_sm3_chain_verifies_with_sm3_only():
    rows = make_chain(algorithm="sm3")
    assert rows[0].hash != make_chain()[0].hash
    assert verify_chain(rows, "sm3") is None
    assert verify_chain(rows, "sha256") == Break("J001", 1, "事件内容与哈希不符（记录被改动）")


def test_a_break_reads_as_a_chinese_sentence():
    assert str(Break("J001", 4, "前一事件哈希不符")) == "全宗 J001 第 4 号事件：前一事件哈希不符"
