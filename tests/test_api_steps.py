"""The step-record endpoints of the JSON API: start, save, sign, complete, waive, correct, and the evidence
(materials, notebook, tallies) — each through the service the step page calls, under the same checks."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jishi.core.testing import SIGNING_PIN
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Confirmation, Material, NotebookEntry, StepRecord, VoteTally
from jishi.selection.walk import walk
from tests.api_helpers import ApiClient

D01_DATA = {"held_on": "2026-03-02", "opinion_giver": "市财政局党组", "opinion_summary": "同意调整方案。"}
NOTE = {
    "item_id": "I01",
    "kind": "hearing",
    "occurred_at": "2026-03-02T09:30:00",
    "place": "市委组织部第一会议室",
    "participants": "李晓红、王建国",
    "content": "听取市财政局党组对调整的意见，同意。",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _refused(answer, status, code=None):
    got, body = answer
    assert got == status, body
    assert set(body["error"]) == {"code", "message", "extra"}
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def _events(action, actor=None):
    found = Event.objects.filter(action=action)
    return found.filter(actor=actor) if actor is not None else found


def _walk_through(batch, world, *step_ids):
    """Complete exactly these steps (and any person's steps among them) through the services."""
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s not in step_ids)


@pytest.fixture
def d01(world, batch) -> StepRecord:
    """D01 started by alice, nothing else done."""
    return services.step_start(actor=world.alice, batch=batch, step_id="D01")


# The whole small path ------------------------------------------------------------------------------


def test_alice_and_bob_take_a_new_batch_through_d01_and_a_skip_is_refused_and_recorded(world):
    alice, bob = ApiClient(world.alice), ApiClient(world.bob)
    status, batch = alice.post(
        "/batches",
        {"unit": "J001", "title": "2026年第六批调整", "position_ids": [world.positions[0].pk]},
        key="b",
    )
    assert status == 201
    status, _ = alice.post(
        f"/batches/{batch['id']}/nominations", {"cadre_id": world.cadres[0].pk, "position_id": world.positions[0].pk}
    )
    assert status == 201
    status, record = alice.post(f"/batches/{batch['id']}/steps/D01/start", {"nomination_id": None}, key="start")
    assert status == 201 and record["status"] == "in_progress" and record["revision"] == 0
    assert record["step_name"] == "听取党委（党组）意见" and record["signer_roles"] == ["clerk", "section_head"]
    assert (
        alice.post(f"/batches/{batch['id']}/steps/D01/start", {"nomination_id": None}, key="start")[1]["id"]
        == (record["id"])
    )
    rid = record["id"]
    status, saved = alice.put(f"/records/{rid}/data", {"data": D01_DATA})
    assert status == 200 and saved["revision"] == 1 and saved["data"] == D01_DATA
    status, note = alice.post(f"/records/{rid}/notebook", NOTE)
    assert status == 201 and note["recorder"] == "alice" and note["occurred_at"].startswith("2026-03-02T09:30:00+08:00")
    status, shown = alice.get(f"/records/{rid}")
    assert shown["revision"] == 2 and len(shown["notebook"]) == 1
    assert shown["problems"] == ["待经办人确认签字", "待干部科长确认签字"]
    status, signed = alice.post(f"/records/{rid}/confirm", {"role": "clerk", "pin": SIGNING_PIN, "seen_revision": 2})
    assert status == 201 and signed["username"] == "alice" and signed["revision"] == 2
    status, signed = bob.post(f"/records/{rid}/confirm", {"role": "section_head", "pin": SIGNING_PIN})
    assert status == 201 and signed["role_label"] == "干部科长"
    status, done = alice.post(f"/records/{rid}/complete")
    assert status == 200 and done["status"] == "completed" and done["completed_by"] == "alice"
    assert [c["username"] for c in done["confirmations"]] == ["alice", "bob"] and done["problems"] == []
    for action, actor in (
        ("step.start", world.alice),
        ("step.save", world.alice),
        ("notebook.add", world.alice),
        ("step.confirm", world.alice),
        ("step.confirm", world.bob),
        ("step.complete", world.alice),
    ):
        assert _events(action, actor).filter(payload__contains='"D01"').exists(), action
    flow = alice.get(f"/batches/{batch['id']}")[1]["flow"]
    assert flow[0]["steps"]["D01"] == {"state": "done", "record_id": rid} and flow[0]["steps"]["D02"]["state"] == (
        "available"
    )
    # 越过程序: D03 before D02 is refused, and the attempt stays on the ledger.
    error = _refused(alice.post(f"/batches/{batch['id']}/steps/D03/start", {}), 400, "out_of_order")
    assert error["extra"]["unmet"] == ["D02"] and "越过程序" in error["message"]
    refused = _events("step.refused", world.alice).get()
    assert json.loads(refused.payload)["step"] == "D03" and refused.subject_id == str(batch["id"])
    assert not StepRecord.objects.filter(step_id="D03").exists()


def test_a_person_step_needs_its_person_and_a_batch_step_refuses_one(world, batch):
    nomination = batch.nominations.first()
    api = ApiClient(world.alice)
    _refused(api.post(f"/batches/{batch.pk}/steps/D01/start", {"nomination_id": nomination.pk}), 400, "batch_step")
    _refused(api.post(f"/batches/{batch.pk}/steps/D06/start", {}), 400, "nomination_required")
    _refused(api.post(f"/batches/{batch.pk}/steps/ZZZ/start", {}), 400, "unknown_step")
    _refused(api.post(f"/batches/{batch.pk}/steps/D01/start", {"nomination_id": 999999}), 404)
    assert not StepRecord.objects.exists()


# Permissions ---------------------------------------------------------------------------------------


def test_grace_of_the_county_can_neither_see_nor_work_on_a_city_record(world, batch, d01):
    grace = ApiClient(world.grace)
    _refused(grace.post(f"/batches/{batch.pk}/steps/D02/start", {}), 403, "forbidden")
    _refused(grace.get(f"/records/{d01.pk}"), 403, "forbidden")
    _refused(grace.put(f"/records/{d01.pk}/data", {"data": D01_DATA}), 403)
    _refused(grace.post(f"/records/{d01.pk}/notebook", NOTE), 403)
    _refused(grace.get(f"/records/{d01.pk}/notebook"), 403)
    _refused(grace.post(f"/records/{d01.pk}/complete"), 403)
    d01.refresh_from_db()
    assert d01.revision == 0 and not NotebookEntry.objects.exists()
    _refused(ApiClient(world.alice).get("/records/999999"), 404, "not_found")


def test_carol_may_see_a_d01_record_but_not_work_on_it(world, batch, d01):
    carol = ApiClient(world.carol)
    assert carol.get(f"/records/{d01.pk}")[0] == 200
    _refused(carol.put(f"/records/{d01.pk}/data", {"data": D01_DATA}), 403, "forbidden")
    _refused(carol.post(f"/records/{d01.pk}/confirm", {"role": "clerk", "pin": SIGNING_PIN}), 403)
    assert not Confirmation.objects.exists()


def test_a_token_without_the_sign_scope_cannot_confirm(world, batch, d01):
    services.step_save(actor=world.alice, record=d01, data=D01_DATA)
    api = ApiClient(world.alice, scopes=("read", "write"))
    _refused(api.post(f"/records/{d01.pk}/confirm", {"role": "clerk", "pin": SIGNING_PIN}), 403, "scope")
    assert not Confirmation.objects.exists() and not _events("step.confirm").exists()


def test_a_wrong_pin_is_refused_counted_and_signs_nothing(world, batch, d01):
    error = _refused(
        ApiClient(world.alice).post(f"/records/{d01.pk}/confirm", {"role": "clerk", "pin": "000000"}), 400, "wrong_pin"
    )
    assert error["message"]
    assert not Confirmation.objects.exists() and not _events("step.confirm").exists()
    assert _events("signing.pin_failed", world.alice).count() == 1


def test_a_confirmation_of_an_older_revision_is_refused_as_stale(world, batch, d01):
    services.step_save(actor=world.alice, record=d01, data=D01_DATA)
    body = {"role": "clerk", "pin": SIGNING_PIN, "seen_revision": 0}
    _refused(ApiClient(world.alice).post(f"/records/{d01.pk}/confirm", body), 409, "stale")
    assert not Confirmation.objects.exists()


def test_an_incomplete_record_cannot_be_completed_and_says_why(world, batch, d01):
    error = _refused(ApiClient(world.alice).post(f"/records/{d01.pk}/complete"), 400, "incomplete")
    problems = error["extra"]["problems"]
    assert "未填写：听取意见时间" in problems and "缺少纪实笔记：听取党委（党组）意见记录" in problems
    assert "待经办人确认签字" in problems
    d01.refresh_from_db()
    assert d01.status == "in_progress" and not _events("step.complete").exists()


# Materials -----------------------------------------------------------------------------------------


def test_alice_registers_a_material_file_and_its_download_goes_on_the_ledger(world, batch):
    _walk_through(batch, world, "D01", "D02")
    record = services.step_start(actor=world.alice, batch=batch, step_id="D03")
    api = ApiClient(world.alice)
    form = {"item_id": "I03", "title": "调整建议方案", "document_number": "内组〔2026〕3号", "pages": "4"}
    status, material = api.post(
        f"/records/{record.pk}/materials", form, files={"file": SimpleUploadedFile("方案.pdf", PDF)}, key="m"
    )
    assert status == 201, material
    assert material["sha256"] == hashlib.sha256(PDF).hexdigest() and material["kind"] == "pdf"
    assert material["pages"] == 4 and material["registered_by"] == "alice"
    registered = _events("material.register", world.alice).get()
    assert json.loads(registered.payload)["sha256"] == material["sha256"]
    status, listed = api.get(f"/records/{record.pk}/materials")
    assert status == 200 and listed["count"] == 1 and listed["items"][0]["sha256"] == material["sha256"]
    assert api.get(f"/records/{record.pk}")[1]["materials"][0]["document_number"] == "内组〔2026〕3号"
    status, response = ApiClient(world.erin).get(f"/materials/{material['id']}/download")
    assert status == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    download = _events("material.download", world.erin).get()
    assert json.loads(download.payload)["sha256"] == material["sha256"]


def test_a_paper_material_has_no_file_and_a_disguised_file_is_refused(world, batch):
    _walk_through(batch, world, "D01", "D02")
    record = services.step_start(actor=world.alice, batch=batch, step_id="D03")
    api = ApiClient(world.alice)
    status, paper = api.post(f"/records/{record.pk}/materials", {"item_id": "I03", "title": "纸质原件"}, files={})
    assert status == 201 and paper["sha256"] == "" and paper["pages"] == 1
    _refused(api.get(f"/materials/{paper['id']}/download"), 400, "no_file")
    fake = SimpleUploadedFile("病毒.pdf", b"MZ\x90\x00 not a pdf")
    form = {"item_id": "I03", "title": "伪装文件"}
    _refused(api.post(f"/records/{record.pk}/materials", form, files={"file": fake}), 400, "file_type")
    unknown = {"item_id": "I99", "title": "x"}
    _refused(api.post(f"/records/{record.pk}/materials", unknown, files={}), 400, "unknown_item")
    assert Material.objects.count() == 1


def test_grace_cannot_register_list_or_download_city_materials(world, batch):
    _walk_through(batch, world, "D01", "D02")
    record = services.step_start(actor=world.alice, batch=batch, step_id="D03")
    material = services.material_register(
        actor=world.alice, record=record, item_id="I03", title="方案", upload=SimpleUploadedFile("a.pdf", PDF)
    )
    grace = ApiClient(world.grace)
    form = {"item_id": "I03", "title": "越权"}
    _refused(grace.post(f"/records/{record.pk}/materials", form, files={}), 403)
    _refused(grace.get(f"/records/{record.pk}/materials"), 403)
    _refused(grace.get(f"/materials/{material.pk}/download"), 403, "forbidden")
    _refused(grace.get("/materials/999999/download"), 404)
    assert Material.objects.count() == 1 and not _events("material.download").exists()


# Notebook ------------------------------------------------------------------------------------------


def test_notebook_entries_are_listed_and_a_future_one_is_refused(world, batch, d01):
    api = ApiClient(world.alice)
    assert api.post(f"/records/{d01.pk}/notebook", NOTE)[0] == 201
    status, listed = api.get(f"/records/{d01.pk}/notebook")
    assert status == 200 and listed["count"] == 1 and listed["items"][0]["place"] == NOTE["place"]
    future, ancient = {**NOTE, "occurred_at": "2099-01-01T09:00:00"}, {**NOTE, "occurred_at": "1900-01-01T09:00:00"}
    _refused(api.post(f"/records/{d01.pk}/notebook", future), 400, "future_time")
    _refused(api.post(f"/records/{d01.pk}/notebook", ancient), 422, "validation")
    _refused(api.post(f"/records/{d01.pk}/notebook", {**NOTE, "kind": "gossip"}), 422, "validation")
    assert NotebookEntry.objects.count() == 1 and _events("notebook.add").count() == 1


# Tallies -------------------------------------------------------------------------------------------


def test_alice_records_the_t04_tally_for_every_candidate(world, batch):
    order = [s.id for s in batch.procedure.definition.steps()]
    _walk_through(batch, world, *order[: order.index("T04")])
    record = services.step_start(actor=world.alice, batch=batch, step_id="T04")
    api = ApiClient(world.alice)
    status, empty = api.get(f"/records/{record.pk}/tally")
    ids = [n.pk for n in batch.nominations.order_by("id")]
    assert status == 200 and empty["recorded"] is False and [c["nomination_id"] for c in empty["candidates"]] == ids
    body = {"due": 9, "present": 8, "valid_ballots": 8, "lines": {str(n): [6, 1, 1, 0] for n in ids}}
    status, tally = api.put(f"/records/{record.pk}/tally", body)
    assert status == 200 and tally["recorded"] and tally["due"] == 9 and tally["kind"] == "recommendation"
    assert tally["lines"][0] == {"nomination_id": ids[0], "approve": 6, "oppose": 1, "abstain": 1, "defer": 0}
    assert _events("tally.save", world.alice).count() == 1
    assert api.get(f"/records/{record.pk}")[1]["tally"]["present"] == 8
    missing = {**body, "lines": {str(ids[0]): [6, 1, 1, 0]}}
    _refused(api.put(f"/records/{record.pk}/tally", missing), 400, "tally_candidates")
    error = _refused(api.put(f"/records/{record.pk}/tally", {**body, "present": 10}), 400, "invalid_tally")
    assert "present" in error["extra"]["fields"]
    _refused(ApiClient(world.grace).put(f"/records/{record.pk}/tally", body), 403)
    _refused(ApiClient(world.grace).get(f"/records/{record.pk}/tally"), 403)
    assert VoteTally.objects.get().present == 8 and _events("tally.save").count() == 1


def test_a_step_without_a_vote_has_no_tally(world, batch, d01):
    api = ApiClient(world.alice)
    _refused(api.get(f"/records/{d01.pk}/tally"), 404)
    body = {"due": 9, "present": 8, "valid_ballots": 8, "lines": {}}
    _refused(api.put(f"/records/{d01.pk}/tally", body), 400, "no_tally")


# Waivers and corrections ---------------------------------------------------------------------------


def test_carol_waives_d05_with_her_signed_approval_and_alice_cannot(world, batch):
    _walk_through(batch, world, "D01", "D02", "D03", "D04")
    body = {"nomination_id": None, "reason": "无需事前报告", "legal_basis": "《条例》第十条", "pin": SIGNING_PIN}
    _refused(ApiClient(world.alice).post(f"/batches/{batch.pk}/steps/D05/waive", body), 403, "forbidden")
    no_sign = ApiClient(world.carol, scopes=("read", "write"))
    _refused(no_sign.post(f"/batches/{batch.pk}/steps/D05/waive", body), 403, "scope")
    _refused(ApiClient(world.carol).post(f"/batches/{batch.pk}/steps/D04/waive", body), 400, "not_waivable")
    status, record = ApiClient(world.carol).post(f"/batches/{batch.pk}/steps/D05/waive", body)
    assert status == 200 and record["status"] == "waived" and record["waiver_basis"] == "《条例》第十条"
    assert _events("step.waive", world.carol).count() == 1
    assert StepRecord.objects.get(step_id="D05").status == "waived"


def test_bob_corrects_a_completed_record_and_the_original_is_kept(world, batch):
    _walk_through(batch, world, "D01")
    old = StepRecord.objects.get(step_id="D01")
    body = {"reason": "日期笔误", "data": {"held_on": "2025-12-01"}, "pin": SIGNING_PIN}
    _refused(ApiClient(world.alice).post(f"/records/{old.pk}/correct", body), 403, "forbidden")
    _refused(ApiClient(world.bob, scopes=("read", "write")).post(f"/records/{old.pk}/correct", body), 403, "scope")
    _refused(ApiClient(world.bob).post(f"/records/{old.pk}/correct", {**body, "pin": "000000"}), 400, "wrong_pin")
    status, new = ApiClient(world.bob).post(f"/records/{old.pk}/correct", body, key="fix")
    assert status == 201 and new["corrects_id"] == old.pk and new["data"]["held_on"] == "2025-12-01"
    assert new["correction_reason"] == "日期笔误" and new["status"] == "completed"
    assert StepRecord.objects.filter(step_id="D01").count() == 2
    old.refresh_from_db()
    assert old.data["held_on"] != "2025-12-01"
    assert _events("step.correct", world.bob).count() == 1
