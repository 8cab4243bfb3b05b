from __future__ import annotations

import pytest

from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Event
from jishi.selection.models import Batch, Nomination
from jishi.selection.services import batch_create, nomination_add, nomination_drop
from jishi.selection.walk import walk
from tests.batches import finished_with_y04_waived


def test_it_numbers_a_new_batch_by_fonds_and_year_and_logs_it(world: World):
    before = Event.objects.filter(chain__fonds="J001").count()
    batch = batch_create(actor=world.alice, org_unit=world.city, title="第一批", positions=world.positions[:1])
    assert batch.number.startswith("J001-") and batch.number.endswith("-001")
    assert batch.procedure.code == "standard"
    event = Event.objects.filter(chain__fonds="J001").latest("seq")
    assert Event.objects.filter(chain__fonds="J001").count() == before + 1
    assert event.action == "batch.create" and event.actor == world.alice
    assert '"sha256"' in event.payload


def test_a_county_clerk_cannot_open_a_batch_for_the_city(world: World):
    with pytest.raises(PermissionDenied):
        batch_create(actor=world.grace, org_unit=world.city, title="越权", positions=world.positions[:1])
    assert not Batch.objects.exists()


def test_it_refuses_a_position_of_another_department(world: World):
    with pytest.raises(ApplicationError, match="不归本部门管理"):
        batch_create(actor=world.alice, org_unit=world.city, title="第一批", positions=[world.county_position])


def test_it_refuses_a_batch_without_a_title_or_positions(world: World):
    with pytest.raises(ApplicationError, match="批次名称"):
        batch_create(actor=world.alice, org_unit=world.city, title="  ", positions=world.positions)
    with pytest.raises(ApplicationError, match="拟任职位"):
        batch_create(actor=world.alice, org_unit=world.city, title="第一批", positions=[])
    assert not Batch.objects.exists()


def test_one_person_gets_one_form_per_batch(world: World, batch: Batch):
    with pytest.raises(ApplicationError, match="一张纪实表"):
        nomination_add(actor=world.alice, batch=batch, cadre=world.cadres[0], position=world.positions[1])
    assert batch.nominations.filter(cadre=world.cadres[0]).count() == 1


def test_it_refuses_a_cadre_outside_the_departments_remit(world: World, batch: Batch):
    with pytest.raises(ApplicationError, match="管理范围"):
        nomination_add(actor=world.alice, batch=batch, cadre=world.county_cadre, position=world.positions[0])


def test_nomination_numbers_follow_the_batch_number(batch: Batch):
    numbers = list(batch.nominations.order_by("id").values_list("number", flat=True))
    assert numbers == [f"{batch.number}-01", f"{batch.number}-02", f"{batch.number}-03"]


def test_dropping_needs_a_reason_and_keeps_the_nomination_on_record(world: World, batch: Batch):
    nomination = batch.nominations.order_by("id").first()
    assert nomination is not None
    with pytest.raises(ApplicationError, match="退出原因"):
        nomination_drop(actor=world.alice, nomination=nomination, reason="")
    nomination_drop(actor=world.alice, nomination=nomination, reason="本人因家庭原因申请退出")
    nomination.refresh_from_db()
    assert nomination.status == "dropped" and nomination.dropped_by == world.alice
    assert nomination.dropped_at_step == "D01"  # nothing was done yet: the batch stood at its first step
    assert Nomination.objects.filter(pk=nomination.pk).exists()
    assert Event.objects.filter(action="nomination.drop", subject_id=str(nomination.pk)).count() == 1


def test_an_outsider_cannot_drop_a_nomination(world: World, batch: Batch):
    nomination = batch.nominations.first()
    assert nomination is not None
    with pytest.raises(PermissionDenied):
        nomination_drop(actor=world.oscar, nomination=nomination, reason="无权")
    nomination.refresh_from_db()
    assert nomination.is_active


def test_no_nomination_can_be_added_once_inspection_targets_are_fixed(world: World, batch: Batch):
    walk(
        batch=batch,
        actor=world.alice,
        signers=world.signers(),
        pin=SIGNING_PIN,
        stop=lambda step_id, n: step_id == "K01",
    )
    assert batch.records.get(step_id="T07").status == "completed"
    with pytest.raises(ApplicationError, match="不能再增加人选"):
        nomination_add(actor=world.alice, batch=batch, cadre=world.cadres[3], position=world.positions[1])
    assert batch.nominations.count() == 3


def test_dropping_records_the_step_the_person_had_reached(world: World, batch: Batch):
    walk(
        batch=batch,
        actor=world.alice,
        signers=world.signers(),
        pin=SIGNING_PIN,
        stop=lambda step_id, n: step_id == "K04",
    )
    nomination = batch.nominations.order_by("id").last()
    assert nomination is not None
    nomination_drop(actor=world.alice, nomination=nomination, reason="考察中发现不宜提拔的情况")
    nomination.refresh_from_db()
    assert nomination.dropped_at_step == "K04"


def test_a_person_whose_whole_process_is_finished_cannot_be_dropped(world: World):
    batch = finished_with_y04_waived(world)
    nomination = batch.nominations.first()
    assert nomination is not None
    with pytest.raises(ApplicationError, match="全部程序已经办结"):
        nomination_drop(actor=world.alice, nomination=nomination, reason="误操作")
    nomination.refresh_from_db()
    assert nomination.is_active
