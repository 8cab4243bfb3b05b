"""办结时间 (``Batch.finished_at``): set by the services in the step's own transaction, read by the lists."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Event
from jishi.selection import selectors
from jishi.selection.models import Batch, Nomination, StepRecord
from jishi.selection.selectors import todos_for_user
from jishi.selection.services import nomination_drop
from jishi.selection.walk import walk
from jishi.supervision.dashboard import batch_progress
from tests.api_helpers import ApiClient
from tests.batches import make_batch, walked_once

backfill = importlib.import_module("jishi.selection.migrations.0003_batch_finished_at").backfill


def _last_step(batch: Batch) -> str:
    return batch.procedure.definition.steps()[-1].id


def _walk_all_but(world: World, batch: Batch, step_id: str, nomination: Nomination | None = None) -> None:
    """Every step except ``step_id`` (for ``nomination`` only, when given)."""
    walk(
        batch=batch,
        actor=world.alice,
        signers=world.signers(),
        pin=SIGNING_PIN,
        stop=lambda s, n: s == step_id and (nomination is None or n == nomination),
    )


@pytest.fixture
def almost_finished(world: World) -> Batch:
    """The ``batch`` fixture's batch with every step done for all three people but the last one."""

    def build() -> Batch:
        b = make_batch(world)
        _walk_all_but(world, b, _last_step(b))
        return b

    return walked_once("all but the last step", build)


def _todo_batches(user) -> set[int]:
    return {t.batch.pk for t in todos_for_user(user)}


def test_completing_the_last_step_marks_the_batch_finished_and_takes_it_off_the_lists(
    world: World, almost_finished: Batch
):
    batch = almost_finished
    last = _last_step(batch)
    assert not StepRecord.objects.filter(batch=batch, step_id=last, status="completed").exists()
    assert batch.finished_at is None
    assert batch.pk in _todo_batches(world.alice)
    assert batch.pk in {row.batch.pk for row in batch_progress(world.erin)}

    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)

    batch.refresh_from_db()
    final = StepRecord.objects.filter(batch=batch).aggregate(at=Max("completed_at"))["at"]
    assert batch.finished_at == final
    completion = Event.objects.filter(action="step.complete").order_by("-id").first()
    assert completion is not None and json.loads(completion.payload)["step"] == last
    assert batch.pk not in _todo_batches(world.alice)
    assert batch.pk not in {row.batch.pk for row in batch_progress(world.erin)}
    api = ApiClient(world.alice)
    assert [b["id"] for b in api.get("/batches", finished="true")[1]["items"]] == [batch.pk]
    assert api.get("/batches", finished="false")[1]["count"] == 0


def test_a_batch_is_not_finished_while_one_person_still_has_a_step_open(world: World, almost_finished: Batch):
    batch = almost_finished
    last = _last_step(batch)
    first, *_, third = batch.nominations.order_by("id")
    _walk_all_but(world, batch, last, third)
    batch.refresh_from_db()
    assert batch.finished_at is None
    assert StepRecord.objects.filter(batch=batch, nomination=first, step_id=last, status="completed").exists()


def test_dropping_the_only_unfinished_person_finishes_the_batch(world: World, almost_finished: Batch):
    batch = almost_finished
    last = _last_step(batch)
    third = batch.nominations.order_by("id").last()
    _walk_all_but(world, batch, last, third)

    nomination_drop(actor=world.alice, nomination=third, reason="本人因病申请退出")

    batch.refresh_from_db()
    assert batch.finished_at is not None
    third.refresh_from_db()
    assert batch.finished_at == third.dropped_at
    assert Event.objects.filter(action="nomination.drop", subject_id=str(third.pk)).count() == 1


def test_the_migration_fills_in_batches_finished_before_the_field_existed(world: World, almost_finished: Batch):
    batch = almost_finished
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    batch.refresh_from_db()
    finished_at = batch.finished_at
    assert finished_at is not None
    Batch.objects.filter(pk=batch.pk).update(finished_at=None)

    backfill(apps, None)

    batch.refresh_from_db()
    assert batch.finished_at == finished_at


def test_lists_summarise_a_finished_batch_from_its_marker_without_reading_records(world: World, almost_finished: Batch):
    batch = almost_finished
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    listed = selectors.with_summary(selectors.batches_for_user(world.alice).filter(pk=batch.pk)).get()
    with CaptureQueriesContext(connection) as queries:
        summary = selectors.batch_summary(listed)
    assert len(queries.captured_queries) == 0 and listed.open_records == []
    assert summary == {"stage": "已完成", "finished": True, "active": 3, "total": 3}
    from_records = selectors.with_state(Batch.objects.filter(pk=batch.pk)).get()
    from_records.finished_at = None  # the verdict computed from every record
    assert selectors.batch_summary(from_records) == summary


def test_lists_summarise_an_unfinished_batch_from_its_records(world: World, almost_finished: Batch):
    batch = almost_finished
    listed = selectors.with_summary(selectors.batches_for_user(world.alice).filter(pk=batch.pk)).get()
    with CaptureQueriesContext(connection) as queries:
        summary = selectors.batch_summary(listed)
    assert len(queries.captured_queries) == 0 and listed.open_records
    assert summary == selectors.batch_summary(selectors.with_state(Batch.objects.filter(pk=batch.pk)).get())
    assert summary["finished"] is False and summary["stage"] != "已完成"
