"""The batch and nomination endpoints of the JSON API: the same services and checks as the batch pages."""

from __future__ import annotations

import json

from jishi.core.testing import SIGNING_PIN
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Batch, Nomination
from jishi.selection.walk import walk_step
from tests.api_helpers import ApiClient


def _batch_body(world, **overrides):
    return {
        "unit": "J001",
        "title": "2026年第五批市管干部调整",
        "kind": "routine",
        "reason": "职位空缺",
        "position_ids": [p.pk for p in world.positions],
        **overrides,
    }


def _refused(answer, status, code=None):
    got, body = answer
    assert got == status, body
    assert set(body["error"]) == {"code", "message", "extra"}
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


# Batches -------------------------------------------------------------------------------------------


def test_alice_opens_a_batch_which_goes_on_the_ledger_once_even_when_retried(world):
    api = ApiClient(world.alice)
    status, body = api.post("/batches", _batch_body(world), key="batch-1")
    assert status == 201, body
    batch = Batch.objects.get(pk=body["id"])
    assert body["number"] == batch.number and body["unit"] == "J001" and body["created_by"] == "alice"
    assert [p["id"] for p in body["positions"]] == [p.pk for p in world.positions]
    assert body["summary"]["total"] == 0 and body["summary"]["finished"] is False
    event = Event.objects.get(action="batch.create", subject_id=str(batch.pk))
    assert event.actor == world.alice
    again = api.post("/batches", _batch_body(world), key="batch-1")
    assert again[0] == 201 and again[1]["id"] == batch.pk
    assert Batch.objects.count() == 1


def test_grace_of_the_county_cannot_open_a_batch_in_the_city(world):
    _refused(ApiClient(world.grace).post("/batches", _batch_body(world)), 403, "forbidden")
    assert not Batch.objects.exists()


def test_a_batch_names_only_positions_of_the_callers_own_department(world):
    body = _batch_body(world, position_ids=[world.county_position.pk])
    error = _refused(ApiClient(world.alice).post("/batches", body), 400, "unknown_position")
    assert error["extra"]["ids"] == [world.county_position.pk]
    _refused(ApiClient(world.alice).post("/batches", _batch_body(world, unit="X999")), 400, "unknown_unit")
    _refused(ApiClient(world.alice).post("/batches", _batch_body(world, kind="secret")), 422, "validation")
    assert not Batch.objects.exists()


def test_sam_the_sysadmin_and_a_read_only_token_cannot_open_a_batch(world):
    _refused(ApiClient(world.sam).post("/batches", _batch_body(world)), 403)
    _refused(ApiClient(world.alice, scopes=("read",)).post("/batches", _batch_body(world)), 403, "scope")
    assert not Batch.objects.exists()


def test_batches_are_listed_to_those_who_see_the_department_and_filtered(world, batch):
    api = ApiClient(world.erin)
    status, body = api.get("/batches")
    assert status == 200 and body["count"] == 1
    item = body["items"][0]
    assert item["id"] == batch.pk and item["summary"]["total"] == 3 and item["summary"]["finished"] is False
    assert api.get("/batches", q="第三批")[1]["count"] == 1
    assert api.get("/batches", q=batch.number)[1]["count"] == 1
    assert api.get("/batches", q="不存在")[1]["count"] == 0
    assert api.get("/batches", unit="J002")[1]["count"] == 0
    assert api.get("/batches", finished="false")[1]["count"] == 1
    assert api.get("/batches", finished="true")[1]["count"] == 0
    # The county clerk and the sysadmin see no city batch.
    assert ApiClient(world.grace).get("/batches")[1]["count"] == 0
    assert ApiClient(world.sam).get("/batches")[1]["count"] == 0


def test_a_batch_shows_its_summary_and_the_state_of_every_step_per_row(world, batch):
    record = services.step_start(actor=world.alice, batch=batch, step_id="D01")
    status, body = ApiClient(world.carol).get(f"/batches/{batch.pk}")
    assert status == 200 and body["summary"]["active"] == 3
    rows = body["flow"]
    assert [r["nomination_id"] for r in rows] == [None, *[n.pk for n in batch.nominations.order_by("id")]]
    assert rows[0]["steps"]["D01"] == {"state": "in_progress", "record_id": record.pk}
    assert rows[0]["steps"]["D02"] == {"state": "locked", "record_id": None}
    assert "D06" not in rows[0]["steps"] and "D01" not in rows[1]["steps"]
    assert rows[1]["steps"]["D06"]["state"] == "locked" and rows[1]["label"] == "张伟"


def test_grace_of_the_county_and_sam_cannot_see_a_city_batch(world, batch):
    _refused(ApiClient(world.grace).get(f"/batches/{batch.pk}"), 403, "forbidden")
    _refused(ApiClient(world.sam).get(f"/batches/{batch.pk}/available-steps"), 403)
    _refused(ApiClient(world.alice).get("/batches/999999"), 404, "not_found")


def test_available_steps_say_what_may_start_and_who_may_start_it(world, batch):
    status, body = ApiClient(world.alice).get(f"/batches/{batch.pk}/available-steps")
    assert status == 200
    assert body["items"] == [
        {"step_id": "D01", "step_name": "听取党委（党组）意见", "nomination_id": None, "can_work": True}
    ]
    assert ApiClient(world.dave).get(f"/batches/{batch.pk}/available-steps")[1]["items"][0]["can_work"] is False
    walk_to = ("D01", "D02", "D03", "D04", "D05")
    for step_id in walk_to:
        walk_step(
            batch=batch, step_id=step_id, nomination=None, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN
        )
    items = ApiClient(world.alice).get(f"/batches/{batch.pk}/available-steps")[1]["items"]
    assert {(i["step_id"], i["nomination_id"]) for i in items} == {("D06", n.pk) for n in batch.nominations.all()}


# Nominations ---------------------------------------------------------------------------------------


def test_nominations_of_a_batch_are_listed_without_identity_numbers(world, batch):
    status, body = ApiClient(world.erin).get(f"/batches/{batch.pk}/nominations")
    assert status == 200 and body["count"] == 3
    first = body["items"][0]
    assert first["cadre_name"] == "张伟" and first["status"] == "active" and first["added_by"] == "alice"
    assert not any("id_number" in key for key in first)
    _refused(ApiClient(world.grace).get(f"/batches/{batch.pk}/nominations"), 403)


def test_alice_adds_a_nomination_which_goes_on_the_ledger(world, batch):
    api = ApiClient(world.alice)
    body = {"cadre_id": world.cadres[3].pk, "position_id": world.positions[1].pk}
    status, answer = api.post(f"/batches/{batch.pk}/nominations", body, key="nom-1")
    assert status == 201, answer
    nomination = Nomination.objects.get(pk=answer["id"])
    assert answer["number"] == nomination.number and answer["cadre_name"] == "赵敏"
    assert Event.objects.get(action="nomination.add", subject_id=str(nomination.pk)).actor == world.alice
    assert api.post(f"/batches/{batch.pk}/nominations", body, key="nom-1")[1]["id"] == nomination.pk
    _refused(api.post(f"/batches/{batch.pk}/nominations", body), 400, "duplicate")
    assert batch.nominations.count() == 4


def test_a_nomination_names_a_cadre_of_the_department_and_a_position_of_the_batch(world, batch):
    api = ApiClient(world.alice)
    county = {"cadre_id": world.county_cadre.pk, "position_id": world.positions[0].pk}
    _refused(api.post(f"/batches/{batch.pk}/nominations", county), 400, "foreign_cadre")
    elsewhere = {"cadre_id": world.cadres[3].pk, "position_id": world.county_position.pk}
    _refused(api.post(f"/batches/{batch.pk}/nominations", elsewhere), 400, "foreign_position")
    assert batch.nominations.count() == 3


def test_dave_and_grace_cannot_add_a_nomination(world, batch):
    body = {"cadre_id": world.cadres[3].pk, "position_id": world.positions[1].pk}
    _refused(ApiClient(world.dave).post(f"/batches/{batch.pk}/nominations", body), 403, "forbidden")
    _refused(ApiClient(world.grace).post(f"/batches/{batch.pk}/nominations", body), 403)
    assert batch.nominations.count() == 3
    assert not Event.objects.filter(action="nomination.add", actor__in=[world.dave, world.grace]).exists()


def test_a_nomination_shows_its_timeline(world, batch):
    nomination = batch.nominations.order_by("id").first()
    record = services.step_start(actor=world.alice, batch=batch, step_id="D01")
    status, body = ApiClient(world.dave).get(f"/nominations/{nomination.pk}")
    assert status == 200 and body["number"] == nomination.number
    timeline = body["timeline"]
    assert len(timeline) == 44 and timeline[0]["step_id"] == "D01" and timeline[0]["scope"] == "batch"
    assert timeline[0]["state"] == "in_progress" and timeline[0]["records"][0]["id"] == record.pk
    assert timeline[5]["step_id"] == "D06" and timeline[5]["state"] == "locked" and timeline[5]["records"] == []
    _refused(ApiClient(world.grace).get(f"/nominations/{nomination.pk}"), 403)
    _refused(ApiClient(world.alice).get("/nominations/999999"), 404)


def test_bob_withdraws_a_nomination_with_a_reason_kept_on_record(world, batch):
    nomination = batch.nominations.order_by("id").last()
    status, body = ApiClient(world.bob).post(f"/nominations/{nomination.pk}/drop", {"reason": "本人申请退出"})
    assert status == 200 and body["status"] == "dropped" and body["dropped_by"] == "bob"
    assert body["dropped_reason"] == "本人申请退出" and body["dropped_at_step"] == "D01"
    event = Event.objects.get(action="nomination.drop", subject_id=str(nomination.pk))
    assert event.actor == world.bob and json.loads(event.payload)["reason"] == "本人申请退出"
    _refused(
        ApiClient(world.bob).post(f"/nominations/{nomination.pk}/drop", {"reason": "再次"}), 400, "already_dropped"
    )


def test_a_withdrawal_needs_a_reason_and_a_manager_of_the_department(world, batch):
    nomination = batch.nominations.order_by("id").first()
    _refused(ApiClient(world.bob).post(f"/nominations/{nomination.pk}/drop", {"reason": ""}), 422, "validation")
    _refused(ApiClient(world.carol).post(f"/nominations/{nomination.pk}/drop", {"reason": "x"}), 403)
    _refused(ApiClient(world.grace).post(f"/nominations/{nomination.pk}/drop", {"reason": "x"}), 403)
    nomination.refresh_from_db()
    assert nomination.is_active and not Event.objects.filter(action="nomination.drop").exists()
