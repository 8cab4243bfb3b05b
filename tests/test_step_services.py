from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.storage import path_for
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Batch, StepRecord
from jishi.selection.step_input import TallyInput
from jishi.selection.walk import sample_values, walk, walk_step


def _events(action: str | None = None) -> int:
    qs = Event.objects.filter(chain__fonds="J001")
    return qs.filter(action=action).count() if action else qs.count()


def _first(batch: Batch, world: World) -> StepRecord:
    return services.step_start(actor=world.alice, batch=batch, step_id="D01")


def _notebook(world: World, record: StepRecord, **overrides):
    data = {
        "item_id": "I01",
        "kind": "hearing",
        "occurred_at": timezone.now() - dt.timedelta(hours=2),
        "place": "市委组织部三楼会议室",
        "participants": "王建国、李晓红",
        "content": "听取意见，同意启动调整。",
    }
    data.update(overrides)
    return services.notebook_entry_add(actor=world.alice, record=record, **data)


def test_the_first_step_can_be_started_and_appends_one_event(world: World, batch: Batch):
    before = _events()
    record = _first(batch, world)
    assert record.status == "in_progress" and record.started_by == world.alice
    assert _events() == before + 1
    assert Event.objects.filter(chain__fonds="J001").latest("seq").action == "step.start"


def test_it_refuses_to_skip_a_step_and_records_the_attempt(world: World, batch: Batch):
    before = _events("step.refused")
    with pytest.raises(ApplicationError) as exc:
        services.step_start(actor=world.alice, batch=batch, step_id="D03")
    assert exc.value.code == "out_of_order"
    assert "D02 听取党政分管领导意见" in exc.value.message
    assert not batch.records.filter(step_id="D03").exists()
    assert _events("step.refused") == before + 1
    refused = Event.objects.filter(action="step.refused").latest("seq")
    assert '"step":"D03"' in refused.payload and refused.actor == world.alice


def test_a_nomination_step_waits_for_the_batch_steps_before_it(world: World, batch: Batch):
    nomination = batch.nominations.first()
    with pytest.raises(ApplicationError, match="不能越过程序"):
        services.step_start(actor=world.alice, batch=batch, step_id="D06", nomination=nomination)


def test_a_nomination_step_needs_a_nomination(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D06")
    with pytest.raises(ApplicationError, match="按人选逐一办理"):
        services.step_start(actor=world.alice, batch=batch, step_id="D06")


def test_it_refuses_an_unknown_step_id(world: World, batch: Batch):
    with pytest.raises(ApplicationError, match="没有编号为“Z99”"):
        services.step_start(actor=world.alice, batch=batch, step_id="Z99")


def test_a_county_clerk_cannot_touch_a_city_batch(world: World, batch: Batch):
    with pytest.raises(PermissionDenied):
        services.step_start(actor=world.grace, batch=batch, step_id="D01")
    record = _first(batch, world)
    with pytest.raises(PermissionDenied):
        services.step_save(actor=world.grace, record=record, data={"held_on": "2026-01-05"})
    with pytest.raises(PermissionDenied):
        services.step_confirm(actor=world.grace, record=record, role="clerk", pin=SIGNING_PIN)
    assert not record.confirmations.exists()


def test_the_system_administrator_never_edits_selection_records(world: World, batch: Batch):
    with pytest.raises(PermissionDenied):
        services.step_start(actor=world.sam, batch=batch, step_id="D01")


def test_it_cannot_complete_without_items_and_signatures(world: World, batch: Batch):
    record = _first(batch, world)
    with pytest.raises(ApplicationError) as exc:
        services.step_complete(actor=world.alice, record=record)
    problems = exc.value.extra["problems"]
    assert any("缺少纪实笔记" in p for p in problems)
    assert any("待经办人确认签字" in p for p in problems)
    assert any("待干部科长确认签字" in p for p in problems)
    record.refresh_from_db()
    assert record.status == "in_progress"


def test_it_completes_when_everything_is_on_record_and_signed(world: World, batch: Batch):
    record = _first(batch, world)
    step = batch.procedure.definition.step("D01")
    services.step_save(actor=world.alice, record=record, data=sample_values(step, dt.date(2026, 1, 5)))
    _notebook(world, record)
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN)
    before = _events()
    services.step_complete(actor=world.alice, record=record)
    record.refresh_from_db()
    assert record.status == "completed" and record.completed_by == world.alice
    assert _events() == before + 1
    complete = Event.objects.filter(action="step.complete").latest("seq")
    assert '"confirmations"' in complete.payload and "section_head" in complete.payload
    services.step_start(actor=world.alice, batch=batch, step_id="D02")  # the next step is now open


def test_changing_the_content_after_a_signature_requires_signing_again(world: World, batch: Batch):
    record = _first(batch, world)
    step = batch.procedure.definition.step("D01")
    values = sample_values(step, dt.date(2026, 1, 5))
    services.step_save(actor=world.alice, record=record, data=values)
    _notebook(world, record)
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN)
    services.step_save(actor=world.alice, record=record, data={**values, step.fields[0].id: "2026-01-06"})
    record.refresh_from_db()
    assert "待干部科长确认签字" in services.completion_problems(record)
    with pytest.raises(ApplicationError, match="还不能完成"):
        services.step_complete(actor=world.alice, record=record)


def test_only_a_holder_of_the_role_can_confirm_in_it(world: World, batch: Batch):
    record = _first(batch, world)
    with pytest.raises(PermissionDenied):
        services.step_confirm(actor=world.alice, record=record, role="section_head", pin=SIGNING_PIN)
    with pytest.raises(ApplicationError, match="不是本步骤的签字责任人"):
        services.step_confirm(actor=world.dave, record=record, role="discipline", pin=SIGNING_PIN)
    services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN)
    with pytest.raises(ApplicationError, match="已确认过"):
        services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN)
    assert record.confirmations.count() == 1


def test_bad_field_input_changes_nothing(world: World, batch: Batch):
    record = _first(batch, world)
    before = _events()
    step = batch.procedure.definition.step("D01")
    date_field = next(f for f in step.fields if f.type == "date")
    with pytest.raises(ApplicationError) as exc:
        services.step_save(actor=world.alice, record=record, data={date_field.id: "2026-02-30"})
    assert date_field.id in exc.value.extra["fields"]
    record.refresh_from_db()
    assert record.data == {} and record.revision == 0 and _events() == before


def test_a_notebook_entry_cannot_be_dated_in_the_future(world: World, batch: Batch):
    record = _first(batch, world)
    with pytest.raises(ApplicationError, match="不能晚于现在"):
        _notebook(world, record, occurred_at=timezone.now() + dt.timedelta(days=1))
    assert not record.notebook.exists()


def test_a_material_file_is_stored_by_its_hash_and_the_hash_goes_on_the_ledger(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D03")
    record = services.step_start(actor=world.alice, batch=batch, step_id="D03")
    item = batch.procedure.definition.items_of("D03")[0]
    content = b"%PDF-1.4 adjustment proposal"
    upload = SimpleUploadedFile("调整建议方案.pdf", content, content_type="application/pdf")
    material = services.material_register(
        actor=world.alice, record=record, item_id=item.id, title="调整建议方案", pages=3, upload=upload
    )
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    assert material.sha256 == digest and path_for(digest).read_bytes() == content
    assert digest in Event.objects.filter(action="material.register").latest("seq").payload


def test_it_refuses_a_file_whose_content_does_not_match_its_extension(world: World, batch: Batch):
    record = _first(batch, world)
    upload = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 not a pdf")
    with pytest.raises(ApplicationError, match="无法识别文件内容"):
        services.material_register(actor=world.alice, record=record, item_id="I01", title="扫描件", upload=upload)
    with pytest.raises(ApplicationError, match="只接受"):
        services.material_register(
            actor=world.alice, record=record, item_id="I01", title="脚本", upload=SimpleUploadedFile("x.exe", b"MZ")
        )
    assert not record.materials.exists()


def test_a_mandatory_step_cannot_be_waived(world: World, batch: Batch):
    with pytest.raises(ApplicationError, match="必经程序"):
        services.step_waive(
            pin=SIGNING_PIN, actor=world.carol, batch=batch, step_id="D01", reason="赶时间", legal_basis="无"
        )
    assert not batch.records.exists()


def test_only_a_department_leader_can_waive_a_conditional_step(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D05")
    with pytest.raises(PermissionDenied):
        services.step_waive(
            pin=SIGNING_PIN, actor=world.alice, batch=batch, step_id="D05", reason="无事前报告事项", legal_basis="x"
        )
    record = services.step_waive(
        pin=SIGNING_PIN,
        actor=world.carol,
        batch=batch,
        step_id="D05",
        reason="本批次不涉及破格提拔、超职数配备等事前报告事项",
        legal_basis="四川省《党政领导干部选拔任用工作有关事项报告办法》",
    )
    assert record.status == "waived" and record.completed_by == world.carol
    event = Event.objects.filter(action="step.waive").latest("seq")
    assert "事前报告事项" in event.payload
    nomination = batch.nominations.first()
    services.step_start(actor=world.alice, batch=batch, step_id="D06", nomination=nomination)  # waived counts as done


def test_a_waiver_cannot_jump_ahead_either(world: World, batch: Batch):
    with pytest.raises(ApplicationError, match="不能越过程序"):
        services.step_waive(
            pin=SIGNING_PIN, actor=world.carol, batch=batch, step_id="D05", reason="无", legal_basis="无"
        )


def test_a_correction_is_a_new_record_naming_the_old_one(world: World, batch: Batch):
    record = walk_step(
        batch=batch, step_id="D01", nomination=None, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN
    )
    field = next(f for f in batch.procedure.definition.step("D01").fields if f.type == "date")
    with pytest.raises(PermissionDenied):
        services.step_correct(
            pin=SIGNING_PIN, actor=world.alice, record=record, reason="笔误", data={field.id: "2026-03-02"}
        )
    with pytest.raises(ApplicationError, match="更正理由"):
        services.step_correct(pin=SIGNING_PIN, actor=world.bob, record=record, reason="", data={field.id: "2026-03-02"})
    new = services.step_correct(
        pin=SIGNING_PIN, actor=world.bob, record=record, reason="听取意见日期笔误", data={field.id: "2026-03-02"}
    )
    record.refresh_from_db()
    assert new.corrects == record and new.data[field.id] == "2026-03-02"
    assert record.data[field.id] != "2026-03-02" and record.status == "completed"
    event = Event.objects.filter(action="step.correct").latest("seq")
    assert "听取意见日期笔误" in event.payload and '"approver":"bob"' in event.payload
    with pytest.raises(ApplicationError, match="已被更正过"):
        services.step_correct(
            pin=SIGNING_PIN, actor=world.bob, record=record, reason="再改", data={field.id: "2026-03-03"}
        )


def test_a_completed_record_cannot_be_edited(world: World, batch: Batch):
    record = walk_step(
        batch=batch, step_id="D01", nomination=None, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN
    )
    with pytest.raises(ApplicationError, match="已办结"):
        services.step_save(actor=world.alice, record=record, data={})


def test_tally_attendance_below_two_thirds_blocks_completion(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "T04")
    record = services.step_start(actor=world.alice, batch=batch, step_id="T04")
    lines = {n.pk: (3, 1, 1, 0) for n in services.tally_candidates(record)}
    services.tally_save(
        actor=world.alice, record=record, tally=TallyInput(due=9, present=5, valid_ballots=5, lines=lines)
    )
    assert any("少于应到 9 人的 2/3" in p for p in services.completion_problems(record))


def test_every_service_call_appends_exactly_one_event(world: World, batch: Batch):
    counts = []
    record = _first(batch, world)
    counts.append(_events())
    services.step_save(
        actor=world.alice,
        record=record,
        data=sample_values(batch.procedure.definition.step("D01"), dt.date(2026, 1, 5)),
    )
    counts.append(_events())
    _notebook(world, record)
    counts.append(_events())
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    counts.append(_events())
    assert [b - a for a, b in itertools.pairwise(counts)] == [1, 1, 1]
