"""Rules at work: blocking inside the services, warnings after commit, the idempotent scan, and how a warning
ends — by an action or a signed explanation, never by deletion."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import DatabaseError, transaction

from jishi.cadres.services import position_set_key_post
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Event, Signature
from jishi.selection import services
from jishi.selection.models import Batch
from jishi.selection.walk import walk, walk_step
from jishi.supervision import services as supervision
from jishi.supervision.checks import scan
from jishi.supervision.models import EarlyWarning, Notification, WarningStatus


def walk_until(world: World, batch: Batch, step_id: str) -> None:
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == step_id)


def open_warnings(rule: str) -> list[EarlyWarning]:
    return list(EarlyWarning.objects.filter(rule_code=rule, status=WarningStatus.OPEN).order_by("id"))


def test_a_key_post_waits_for_the_supervisors_signed_review_before_recommendation(world: World, batch: Batch):
    position = batch.nominations.first().position
    key_people = list(batch.nominations.filter(position=position))  # 张伟 and 刘洋 both stand for this post
    position_set_key_post(actor=world.bob, position=position, is_key_post=True, reason="发展改革部门领导岗位")
    walk_until(world, batch, "T01")
    with pytest.raises(ApplicationError, match="尚未经干部监督机构审核") as refused:
        services.step_start(actor=world.alice, batch=batch, step_id="T01")
    assert refused.value.code == "rule_block"
    blocking = open_warnings("KP01")
    assert {w.nomination for w in blocking} == set(key_people) and {w.severity for w in blocking} == {"block"}
    with pytest.raises(PermissionDenied):
        supervision.key_post_review(
            actor=world.bob, nomination=key_people[0], approved=True, opinion="同意", pin=SIGNING_PIN
        )
    for person in key_people:
        review = supervision.key_post_review(
            actor=world.erin,
            nomination=person,
            approved=True,
            opinion="经审核，动议程序规范，同意启动。",
            pin=SIGNING_PIN,
        )
        assert Signature.objects.filter(event__hash=review.event_hash, signer="erin").exists()
    services.step_start(actor=world.alice, batch=batch, step_id="T01")
    for warning in blocking:
        warning.refresh_from_db()
        assert warning.status == WarningStatus.RESOLVED and "T01 已依规办理" in warning.closing_note


def test_a_blocking_rule_refuses_completion_and_the_refusal_is_kept_until_put_right(world: World, batch: Batch):
    walk_until(world, batch, "K01")
    record = services.step_start(actor=world.alice, batch=batch, step_id="K01")
    data = {"formed_on": "2026-09-01", "team_leader": "王强", "team_size": "1", "team_members": "王强"}
    for item in batch.procedure.definition.items_of("K01"):
        services.material_register(actor=world.alice, record=record, item_id=item.id, title=item.name, pages=2)
    record = services.step_save(actor=world.alice, record=record, data=data)
    for role, user in (("clerk", world.alice), ("section_head", world.bob)):
        services.step_confirm(actor=user, record=record, role=role, pin=SIGNING_PIN)
    with pytest.raises(ApplicationError, match="考察组应不少于 2 人"):
        services.step_complete(actor=world.alice, record=record)
    [refusal] = open_warnings("W18")
    assert refusal.severity == "block" and refusal.record == record
    assert Event.objects.filter(action="warning.raise", subject_id=str(refusal.pk)).exists()
    # Erin (干部监督) is told at once; so is the clerk who runs the step.
    assert Notification.objects.filter(user=world.erin, warning=refusal).exists()
    with pytest.raises(ApplicationError, match="阻断类预警不能以说明结束"):
        supervision.warning_explain(
            actor=world.erin, warning=refusal, explanation="情况特殊，已知悉。", pin=SIGNING_PIN
        )
    record = services.step_save(
        actor=world.alice, record=record, data={**data, "team_size": "3", "team_members": "王强、周敏、陈亮"}
    )
    for role, user in (("clerk", world.alice), ("section_head", world.bob)):
        services.step_confirm(actor=user, record=record, role=role, pin=SIGNING_PIN)
    services.step_complete(actor=world.alice, record=record)
    refusal.refresh_from_db()
    assert refusal.status == WarningStatus.RESOLVED
    assert Event.objects.filter(action="warning.resolve", subject_id=str(refusal.pk)).exists()


def test_warnings_open_after_a_completion_for_each_person_concerned(world: World, batch: Batch):
    walk_until(world, batch, "D08")
    # The test cadres report no training hours: W10 is a follow-up warning per person, raised at D07.
    warnings = open_warnings("W10")
    assert {w.nomination for w in warnings} == set(batch.nominations.all())
    assert all(w.severity == "warn" and w.step_id == "D07" for w in warnings)


def test_running_the_scan_twice_raises_nothing_new(world: World, batch: Batch):
    walk_until(world, batch, "K01")
    first = scan()
    assert first.raised, "the walked batch has late records to report"
    second = scan()
    assert second.raised == [] and second.resolved == []
    events = Event.objects.filter(action__startswith="warning.").count()
    scan()
    assert Event.objects.filter(action__startswith="warning.").count() == events


def test_a_warning_cannot_be_deleted_even_by_the_database_user(world: World, batch: Batch):
    walk_until(world, batch, "D08")
    warning = open_warnings("W10")[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        EarlyWarning.objects.filter(pk=warning.pk).delete()
    assert EarlyWarning.objects.filter(pk=warning.pk).exists()


def test_a_signed_explanation_ends_a_warning(world: World, batch: Batch):
    walk_until(world, batch, "D08")
    warning = open_warnings("W10")[0]
    with pytest.raises(PermissionDenied):
        supervision.warning_explain(actor=world.alice, warning=warning, explanation="已安排培训。", pin=SIGNING_PIN)
    with pytest.raises(ApplicationError, match="至少 5 个字"):
        supervision.warning_explain(actor=world.erin, warning=warning, explanation="好", pin=SIGNING_PIN)
    supervision.warning_explain(
        actor=world.erin,
        warning=warning,
        explanation="已列入明年一季度专题培训计划，提任后一年内完成。",
        pin=SIGNING_PIN,
    )
    warning.refresh_from_db()
    assert warning.status == WarningStatus.EXPLAINED and warning.closed_by == world.erin
    event = Event.objects.get(hash=warning.closing_event_hash)
    assert event.action == "warning.explain" and Signature.objects.filter(event=event, signer="erin").exists()
    # The scan does not reopen an explained warning while the condition stays as explained.
    scan()
    assert not EarlyWarning.objects.filter(fingerprint=warning.fingerprint, status=WarningStatus.OPEN).exists()


def test_dropping_a_person_ends_their_warnings_at_the_next_scan(world: World, batch: Batch):
    walk_until(world, batch, "D08")
    nomination = batch.nominations.first()
    services.nomination_drop(actor=world.alice, nomination=nomination, reason="本人因身体原因申请退出")
    report = scan()
    closed = [w for w in report.resolved if w.nomination_id == nomination.pk]
    assert closed and all("已退出本批次" in w.closing_note for w in closed)


def test_an_open_report_on_the_notice_blocks_the_appointment_until_verified(world: World, batch: Batch):
    walk_until(world, batch, "R02")
    nomination = batch.nominations.first()
    feedback = supervision.feedback_submit(
        nomination=nomination, content="反映该同志在原单位存在违规发放津补贴问题。", contact="", source="10.0.0.8"
    )
    assert Event.objects.filter(action="feedback.receive").exists()
    with pytest.raises(ApplicationError, match="尚未核查"):
        walk_step(
            batch=batch,
            step_id="R02",
            nomination=nomination,
            actor=world.alice,
            signers=world.signers(),
            pin=SIGNING_PIN,
        )
    assert open_warnings("W30")
    supervision.feedback_verify(
        actor=world.erin,
        feedback=feedback,
        verification="经核查，津补贴按规定发放，不影响任职。",
        affects_appointment=False,
        pin=SIGNING_PIN,
    )
    pending = batch.records.get(step_id="R02", nomination=nomination)
    services.step_complete(actor=world.alice, record=pending)
    walk_until(world, batch, "R04")
    assert batch.records.filter(step_id="R03", status="completed").exists()
    assert not open_warnings("W30")


def test_probation_reminders_come_before_the_year_ends_and_the_scan_keeps_them_once(world: World, batch: Batch):
    walk_until(world, batch, "R06")
    issued = dt.date.fromisoformat(batch.records.get(step_id="R03").data["issued_on"])  # the notice date
    with time_machine.travel(dt.datetime.combine(issued + dt.timedelta(days=340), dt.time(10)), tick=False):
        first = scan()
        reminders = [w for w in first.raised if w.rule_code == "W31"]
        assert len(reminders) == 3 and all(w.severity == "info" and w.due_on for w in reminders)
        assert scan().raised == []


def test_a_wrong_pin_on_an_explanation_is_counted_although_the_explanation_is_refused(world: World, batch: Batch):
    walk_until(world, batch, "D08")
    warning = open_warnings("W10")[0]
    with pytest.raises(ApplicationError):
        supervision.warning_explain(actor=world.erin, warning=warning, explanation="已列入培训计划。", pin="000000")
    world.erin.refresh_from_db()
    assert world.erin.pin_failures == 1
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN
