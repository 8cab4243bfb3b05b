"""The ledger API: events of a subject the caller may see (with signatures), inclusion proofs against the
latest checkpoint, checkpoints signed on demand and chain verification for the units the caller may verify."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from jishi.accounts.services import role_grant, user_create
from jishi.core.roles import Role
from jishi.core.storage import path_for
from jishi.core.testing import PASSWORD, SIGNING_PIN, World
from jishi.ledger import merkle
from jishi.ledger.models import Chain, Checkpoint, Event
from jishi.selection.models import Batch, StepRecord
from jishi.selection.services import material_register, step_start
from jishi.selection.walk import walk
from tests.api_helpers import ApiClient


def _refused(answer: tuple[int, dict], status: int = 403, code: str = "forbidden") -> None:
    got, body = answer
    assert got == status, body
    assert set(body["error"]) == {"code", "message", "extra"} and body["error"]["code"] == code, body


def _county_supervisor(world: World):
    victor = user_create(
        actor=None, org_unit=world.county, username="victor", full_name="何监督", title="", password=PASSWORD
    )
    role_grant(actor=None, user=victor, org_unit=world.county, role=Role.SUPERVISION)
    return victor


def test_alice_reads_the_signed_events_of_a_step_record_and_grace_is_refused(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D02")
    record = StepRecord.objects.get(batch=batch, step_id="D01")
    alice = ApiClient(world.alice)

    status, body = alice.get("/ledger/events", subject_type="steprecord", subject_id=record.pk)

    assert status == 200 and body["count"] == len(body["items"]) > 2
    actions = [e["action"] for e in body["items"]]
    assert actions[0] == "step.start" and "step.confirm" in actions and actions[-1] == "step.complete"
    confirm = next(e for e in body["items"] if e["action"] == "step.confirm")
    assert confirm["fonds"] == "J001" and confirm["signatures"] and confirm["payload"]["step"] == "D01"
    stored = Event.objects.get(chain__fonds="J001", seq=confirm["seq"])
    assert confirm["hash"] == stored.hash and confirm["signatures"][0]["signer"] == stored.signatures.get().signer
    status, paged = alice.get("/ledger/events", subject_type="steprecord", subject_id=record.pk, page=2, page_size=2)
    assert status == 200 and paged["count"] == body["count"] and paged["items"] == body["items"][2:4]
    status, created = alice.get("/ledger/events", subject_type="batch", subject_id=batch.pk)
    assert status == 200 and created["items"][0]["action"] == "batch.create"

    _refused(ApiClient(world.grace).get("/ledger/events", subject_type="steprecord", subject_id=record.pk))
    _refused(ApiClient(world.sam).get("/ledger/events", subject_type="batch", subject_id=batch.pk))
    _refused(alice.get("/ledger/events", subject_type="user", subject_id=world.alice.pk), 400, "unknown_subject_type")
    _refused(alice.get("/ledger/events", subject_type="batch", subject_id=999999), 404, "not_found")


def test_erin_signs_a_checkpoint_and_viewers_get_inclusion_proofs_against_it(world: World, batch: Batch):
    victor = _county_supervisor(world)
    erin = ApiClient(world.erin)
    _refused(ApiClient(world.erin, scopes=("read",)).post("/ledger/checkpoints", {"fonds": "J001"}), code="scope")
    _refused(ApiClient(world.alice).post("/ledger/checkpoints", {"fonds": "J001"}))  # a clerk does not verify
    _refused(ApiClient(victor).post("/ledger/checkpoints", {"fonds": "J001"}))  # the county does not verify the city
    before = Checkpoint.objects.count()

    status, body = erin.post("/ledger/checkpoints", {"fonds": "J001"}, key="witness-1")

    chain = Chain.objects.get(fonds="J001")
    assert status == 201 and body["tree_size"] == chain.seq and body["fonds"] == "J001"
    assert Checkpoint.objects.count() == before + 1
    assert body["root"] in body["witness"] and body["signature"] in body["witness"]
    assert erin.post("/ledger/checkpoints", {"fonds": "J001"}, key="witness-1") == (status, body)
    assert Checkpoint.objects.count() == before + 1

    created = Event.objects.get(action="batch.create", subject_id=str(batch.pk))
    status, proof = ApiClient(world.alice).get(f"/ledger/events/J001/{created.seq}/proof")
    assert status == 200 and proof["included"] is True and proof["leaf_index"] == created.seq - 1
    assert proof["event"]["hash"] == created.hash and proof["checkpoint"]["tree_size"] == chain.seq
    leaf = merkle.leaf_hash(bytes.fromhex(created.hash), "sha256")
    assert merkle.verify_inclusion(
        leaf,
        created.seq - 1,
        chain.seq,
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(proof["checkpoint"]["root"]),
        "sha256",
    )
    _refused(ApiClient(world.grace).get(f"/ledger/events/J001/{created.seq}/proof"))
    # The genesis event is about the chain itself: for those who verify the fonds, not for a clerk.
    assert ApiClient(world.frank).get("/ledger/events/J001/1/proof")[1]["event"]["action"] == "chain.genesis"
    _refused(ApiClient(world.alice).get("/ledger/events/J001/1/proof"))
    _refused(erin.get(f"/ledger/events/J001/{chain.seq + 100}/proof"), 404, "not_found")


def test_erin_verifies_the_city_ledger_and_is_told_the_first_break(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D04")
    record = step_start(actor=world.alice, batch=batch, step_id="D04")
    material = material_register(
        actor=world.alice,
        record=record,
        item_id=batch.procedure.definition.items_of("D04")[0].id,
        title="职数预审表",
        upload=SimpleUploadedFile("yushen.pdf", b"%PDF-1.4 quota check"),
    )
    erin = ApiClient(world.erin)

    status, body = erin.get("/ledger/verify", fonds="J001")
    assert status == 200 and body == {
        "fonds": "J001",
        "ok": True,
        "events": Chain.objects.get(fonds="J001").seq,
        "problem": None,
    }
    status, listed = erin.get("/ledger/checkpoints", fonds="J001")
    assert status == 200 and listed["count"] == Checkpoint.objects.filter(chain__fonds="J001").count() > 0
    assert (
        listed["items"][0]["tree_size"] == Checkpoint.objects.filter(chain__fonds="J001").latest("tree_size").tree_size
    )

    path = path_for(material.sha256)
    path.chmod(0o640)
    path.write_bytes(b"%PDF-1.4 forged quota check")
    status, body = erin.get("/ledger/verify", fonds="J001")

    registered = Event.objects.filter(action="material.register").latest("seq")
    assert status == 200 and body["ok"] is False
    assert body["problem"]["fonds"] == "J001" and body["problem"]["seq"] == registered.seq and body["problem"]["what"]

    victor = ApiClient(_county_supervisor(world))
    _refused(victor.get("/ledger/verify", fonds="J001"))
    _refused(victor.get("/ledger/checkpoints", fonds="J001"))
    assert victor.get("/ledger/verify", fonds="J002")[1]["ok"] is True
    assert {c["fonds"] for c in victor.get("/ledger/checkpoints")[1]["items"]} <= {"J002"}
    _refused(ApiClient(world.grace).get("/ledger/verify", fonds="J002"))  # 经办人、干部科长 do not verify
    _refused(erin.get("/ledger/verify", fonds="J999"), 403)
