"""Attacks and races found in review: each must be refused or detected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from jishi.accounts import keys
from jishi.accounts.services import org_unit_create
from jishi.core.exceptions import ApplicationError
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger import signing
from jishi.ledger.models import Chain
from jishi.ledger.selectors import chain_verify
from jishi.ledger.services import event_append, signature_attach
from jishi.selection import services
from jishi.selection.models import Batch
from jishi.selection.walk import walk


def _forge_confirm(world: World, key_id: str, private: bytes) -> None:
    """What someone with INSERT rights on the ledger does: append a 'signed' confirmation."""
    with transaction.atomic():
        event = event_append(
            fonds="J001",
            actor=world.alice,
            action="step.confirm",
            subject_type="steprecord",
            subject_id=1,
            payload={"role": "clerk", "key_id": key_id},
        )
        message = signing.event_signature_message(fonds="J001", seq=event.seq, event_hash=event.hash, role="clerk")
        signature_attach(
            event=event, key_id=key_id, signer="alice", role="clerk", signature=signing.sign(private, message)
        )


def test_a_key_published_only_in_another_chain_cannot_sign_in_this_one(world: World):
    org_unit_create(actor=None, code="X999", name="另一个全宗")
    pair = signing.generate_keypair()
    kid = signing.key_id(pair.public_key)
    keys._key_event(
        world.alice,
        world.alice,
        "signing_key.enrol",
        {"key_id": kid, "public_key": pair.public_key.hex(), "algorithm": "ed25519"},
        fonds=["X999"],
    )
    _forge_confirm(world, kid, pair.private_key)
    problem = chain_verify(Chain.objects.get(fonds="J001"))
    assert problem is not None and "未在本全宗台账中登记" in problem.what


def test_a_revoked_key_cannot_sign_later_events_whatever_their_timestamp(world: World):
    key, private = keys.unseal(user=world.alice, pin=SIGNING_PIN)
    keys.signing_key_revoke(actor=world.sue, user=world.alice, reason="调离")
    _forge_confirm(world, key.key_id, private)
    problem = chain_verify(Chain.objects.get(fonds="J001"))
    assert problem is not None and "不在有效期内" in problem.what


def test_a_backdated_event_is_reported(world: World):
    from jishi.ledger import hashing
    from jishi.ledger.verify import EventRow, verify_chain

    rows, prev = [], hashing.GENESIS_PREV
    times = ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-01T00:00:00+00:00"]
    for seq, at in enumerate(times, start=1):
        body = hashing.event_body(
            fonds="T",
            seq=seq,
            prev_hash=prev,
            recorded_at=at,
            actor="x",
            action="a",
            subject_type="s",
            subject_id="1",
            payload={},
        )
        h = hashing.event_hash(body)
        rows.append(EventRow("T", seq, prev, h, at, "x", "a", "s", "1", "{}"))
        prev = h
    problem = verify_chain(rows)
    assert problem is not None and problem.seq == 3 and "倒填" in problem.what


def test_no_person_can_join_after_a_batch_step_that_waited_for_everyone(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D09")
    with pytest.raises(ApplicationError, match="D08"):
        services.nomination_add(actor=world.alice, batch=batch, cadre=world.cadres[3], position=world.positions[1])


def test_a_user_at_the_failure_limit_is_refused_before_the_pin_is_tried(world: World):
    type(world.alice).objects.filter(pk=world.alice.pk).update(pin_failures=5)
    with pytest.raises(ApplicationError, match="已锁定"):
        keys.unseal(user=world.alice, pin=SIGNING_PIN)
    world.alice.refresh_from_db()
    assert world.alice.pin_failures == 5


def test_a_correct_pin_ends_a_run_of_failures(world: World):
    type(world.alice).objects.filter(pk=world.alice.pk).update(pin_failures=3)
    keys.unseal(user=world.alice, pin=SIGNING_PIN)
    world.alice.refresh_from_db()
    assert world.alice.pin_failures == 0


def test_a_stale_copy_of_a_record_cannot_keep_an_old_signature_valid(world: World, batch: Batch):
    record = services.step_start(actor=world.alice, batch=batch, step_id="D01")
    stale = type(record).objects.get(pk=record.pk)
    services.step_save(actor=world.alice, record=record, data={})
    services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN)
    services.notebook_entry_add(
        actor=world.alice,
        record=stale,
        item_id="I01",
        kind="hearing",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        place="会议室",
        participants="甲、乙",
        content="补充记录",
    )
    record.refresh_from_db()
    assert record.revision == 2
    assert "待干部科长确认签字" in services.completion_problems(record)


def test_a_confirmation_of_a_revision_the_signer_did_not_see_is_refused(world: World, batch: Batch):
    record = services.step_start(actor=world.alice, batch=batch, step_id="D01")
    services.step_save(actor=world.alice, record=record, data={})
    with pytest.raises(ApplicationError, match="已被修改"):
        services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN, seen_revision=0)
    assert not record.confirmations.exists()


def test_one_person_cannot_sign_in_two_roles(world: World):
    county_batch = services.batch_create(
        actor=world.grace, org_unit=world.county, title="威远县第一批", positions=[world.county_position]
    )
    record = services.step_start(actor=world.grace, batch=county_batch, step_id="D01")
    services.step_confirm(actor=world.grace, record=record, role="clerk", pin=SIGNING_PIN)
    with pytest.raises(ApplicationError, match="同一人不能以两个身份签字"):
        services.step_confirm(actor=world.grace, record=record, role="section_head", pin=SIGNING_PIN)
    assert record.confirmations.count() == 1


def test_starting_twice_is_a_clear_refusal(world: World, batch: Batch):
    services.step_start(actor=world.alice, batch=batch, step_id="D01")
    with pytest.raises(ApplicationError, match="已经开始办理"):
        services.step_start(actor=world.alice, batch=batch, step_id="D01")


def test_a_nul_character_is_refused_not_a_server_error(world: World, batch: Batch):
    record = services.step_start(actor=world.alice, batch=batch, step_id="D01")
    text_field = next(f for f in batch.procedure.definition.step("D01").fields if f.type in ("text", "textarea"))
    with pytest.raises(ApplicationError):
        services.step_save(actor=world.alice, record=record, data={text_field.id: "意见\x00"})
    with pytest.raises(ApplicationError, match="控制字符"):
        services.nomination_drop(actor=world.alice, nomination=batch.nominations.first(), reason="原因\x00")


def test_a_waiver_carries_the_approvers_signature(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D05")
    services.step_waive(
        actor=world.carol,
        batch=batch,
        step_id="D05",
        reason="无事前报告事项",
        legal_basis="四川省有关事项报告办法",
        pin=SIGNING_PIN,
    )
    from jishi.ledger.models import Event, Signature

    event = Event.objects.filter(action="step.waive").latest("seq")
    assert Signature.objects.filter(event=event, signer="carol", role="approver").exists()
    assert chain_verify(Chain.objects.get(fonds="J001")) is None


def test_the_offline_verifier_reports_a_malformed_package_without_a_traceback(tmp_path, capsys):
    from jishi.ledger.verify import main

    (tmp_path / "manifest.json").write_text(
        '{"format": "jishi-ledger-export-v1", "chains": {"J001": {"algorithm": "sha256", "seq": 1, "head": "x"}}}',
        encoding="utf-8",
    )
    (tmp_path / "J001.events.jsonl").write_text('{"unexpected": 1}\n', encoding="utf-8")
    assert main([str(tmp_path)]) == 3
    assert "格式错误" in capsys.readouterr().out
