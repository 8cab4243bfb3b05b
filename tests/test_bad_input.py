"""Whatever a user can type gets a clear answer, never a 500, and changes nothing it should not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.selection.models import Batch, StepRecord
from jishi.selection.services import step_start

GARBAGE = [
    {},
    {"due": "九", "present": "-3", "valid_ballots": "1e9", "reason": "", "role": "king", "item_id": "../../etc"},
    {"occurred_at": "2026-02-31T25:61", "place": "x" * 500, "participants": "", "content": "", "kind": "party"},
    {"title": "", "pages": "-1", "item_id": "I99", "legal_basis": "", "held_on": "昨天"},
]


@pytest.fixture
def record(world: World, batch: Batch) -> StepRecord:
    return step_start(actor=world.alice, batch=batch, step_id="D01")


@pytest.mark.parametrize("data", GARBAGE)
@pytest.mark.parametrize(
    "name",
    [
        "record_save",
        "record_tally",
        "record_notebook",
        "record_material",
        "record_confirm",
        "record_complete",
        "record_correct",
    ],
)
def test_record_actions_answer_bad_input_with_a_message(world: World, record: StepRecord, name: str, data: dict):
    client = Client()
    client.force_login(world.alice)
    before = Event.objects.count()
    response = client.post(reverse(name, args=[record.pk]), data)
    assert response.status_code in (302, 400, 403)
    record.refresh_from_db()
    assert record.status == "in_progress"
    if response.status_code == 400:
        body = response.content.decode()
        assert "refusal" in body or "field-error" in body or "errorlist" in body
        assert Event.objects.count() == before


@pytest.mark.parametrize("data", GARBAGE)
def test_batch_forms_answer_bad_input_with_a_message(world: World, batch: Batch, data: dict):
    client = Client()
    client.force_login(world.alice)
    for url in (
        reverse("batch_create"),
        reverse("nomination_add", args=[batch.pk]),
        reverse("step_waive_batch", args=[batch.pk, "D05"]),
    ):
        response = client.post(url, {**data, "positions": ["abc"], "cadre": "-1", "org_unit": "x"})
        assert response.status_code in (302, 400, 403), url
    assert Batch.objects.count() == 1 and batch.nominations.count() == 3


@pytest.mark.parametrize(
    "path",
    [
        "/batches/abc/",
        "/nominations/0/",
        "/records/999/save/",
        "/cadres/-1/",
        "/batches/1/steps/%E6%B5%8B/",
        "/procedures/99999/",
        "/batches/?page=zzz",
    ],
)
def test_odd_urls_get_a_404_or_a_page_not_a_500(world: World, batch: Batch, path: str):
    client = Client()
    client.force_login(world.alice)
    assert client.get(path).status_code in (200, 404, 405)
