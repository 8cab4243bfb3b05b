from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from jishi.accounts.services import org_unit_create
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger import merkle
from jishi.ledger.models import Chain, Checkpoint, Event
from jishi.ledger.selectors import chain_verify, events_for, evidence
from jishi.ledger.services import checkpoint_create, event_append
from jishi.ledger.verify import Witness
from jishi.selection.models import Batch
from jishi.selection.walk import walk

ROOT = Path(__file__).resolve().parent.parent


def _leaves(chain: Chain, size: int) -> list[bytes]:
    hashes = Event.objects.filter(chain=chain, seq__lte=size).order_by("seq").values_list("hash", flat=True)
    return [merkle.leaf_hash(bytes.fromhex(h), chain.algorithm) for h in hashes]


def test_a_checkpoint_is_made_automatically_every_n_events(world: World, settings):
    settings.LEDGER_CHECKPOINT_EVERY = 10
    org_unit_create(actor=None, code="K010", name="十个事件一个检查点的单位")
    for i in range(25):
        with transaction.atomic():
            event_append(fonds="K010", actor=None, action="test.tick", subject_type="t", subject_id=i, payload={})
    chain = Chain.objects.get(fonds="K010")
    assert '"checkpoint_every":10' in Event.objects.get(chain=chain, seq=1).payload
    sizes = list(Checkpoint.objects.filter(chain=chain).values_list("tree_size", flat=True))
    assert sizes and all(s % 10 == 0 for s in sizes) and max(sizes) == chain.seq // 10 * 10
    for cp in Checkpoint.objects.filter(chain=chain):
        assert cp.root == merkle.root_from_leaf_hashes(_leaves(chain, cp.tree_size)).hex()


def test_every_record_has_an_inclusion_proof_against_the_latest_checkpoint(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D02")
    with transaction.atomic():
        checkpoint_create(chain=Chain.objects.select_for_update().get(fonds="J001"))
    record = batch.records.get(step_id="D01")
    items = evidence(events_for("steprecord", record.pk))
    assert len(items) >= 4 and all(item["included"] for item in items)
    confirm = next(i for i in items if i["event"].action == "step.confirm")
    assert confirm["signatures"]


def test_an_sm3_chain_is_recorded_in_its_genesis_and_verifies(db):
    org_unit_create(actor=None, code="S001", name="国密测试单位", hash_algorithm="sm3")
    chain = Chain.objects.get(fonds="S001")
    genesis = Event.objects.get(chain=chain, seq=1)
    assert chain.algorithm == "sm3" and '"algorithm":"sm3"' in genesis.payload
    with transaction.atomic():
        cp = checkpoint_create(chain=Chain.objects.select_for_update().get(fonds="S001"))
    assert cp.root == merkle.root_from_leaf_hashes(_leaves(chain, cp.tree_size), "sm3").hex()
    assert chain_verify(chain) is None


def test_verify_command_passes_on_clean_data_and_shows_progress(world: World, batch: Batch, capsys):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D03")
    call_command("ledger", "verify")
    out = capsys.readouterr().out
    assert "核验通过" in out and "[#" in out


def test_a_witness_catches_deleted_newest_events(world: World, batch: Batch, tmp_path, capsys):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D03")
    witness = tmp_path / "j001.txt"
    call_command("ledger", "checkpoint", "--fonds", "J001", "--export", str(witness))
    w = Witness.from_text(witness.read_text(encoding="utf-8"))
    assert w.fonds == "J001" and w.tree_size == Chain.objects.get(fonds="J001").seq
    chain = Chain.objects.get(fonds="J001")
    with connection.cursor() as cursor:  # the attacker deletes the tail and fixes the head and checkpoints
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            for name in ("ledger_event_no_delete", "ledger_signature_no_delete", "ledger_checkpoint_no_delete"):
                cursor.execute(f"DROP TRIGGER {name}")
        cut = chain.seq - 3
        cursor.execute(
            "DELETE FROM ledger_signature WHERE event_id IN (SELECT id FROM ledger_event "
            "WHERE chain_id = %s AND seq > %s)",
            [chain.pk, cut],
        )
        cursor.execute("DELETE FROM selection_confirmation")
        cursor.execute("DELETE FROM ledger_checkpoint WHERE chain_id = %s AND tree_size > %s", [chain.pk, cut])
        cursor.execute("DELETE FROM ledger_event WHERE chain_id = %s AND seq > %s", [chain.pk, cut])
        cursor.execute(
            "UPDATE ledger_chain SET seq = %s, head_hash = (SELECT hash FROM ledger_event "
            "WHERE chain_id = %s AND seq = %s) WHERE id = %s",
            [cut, chain.pk, cut, chain.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    call_command("ledger", "verify", "--skip-files")  # the chain alone cannot tell
    with pytest.raises(CommandError) as exc:
        call_command("ledger", "verify", "--witness", str(witness))
    assert exc.value.returncode == 2
    assert "尾部事件被删除" in capsys.readouterr().err


def test_an_exported_package_verifies_without_django(world: World, batch: Batch, tmp_path):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D03")
    out = tmp_path / "export"
    call_command("ledger", "export", str(out), "--with-materials")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["chains"]) == set(Chain.objects.values_list("fonds", flat=True))
    script = (
        "import sys; from jishi.ledger.verify import main; code = main([sys.argv[1]]);"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported';"
        "sys.exit(code)"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-c", script, str(out)], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "核验通过" in ok.stdout
    events = out / "J001.events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace('"actor": "', '"actor": "伪', 1)
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = subprocess.run([sys.executable, "-c", script, str(out)], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "第 6 号事件" in bad.stdout


def test_the_newest_checkpoint_is_proved_consistent_with_the_previous_one(world: World, batch: Batch):
    from django.test import Client
    from django.urls import reverse

    from jishi.ledger.selectors import consistency_evidence

    chain = Chain.objects.get(fonds="J001")
    with transaction.atomic():
        old = checkpoint_create(chain=Chain.objects.select_for_update().get(pk=chain.pk))
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D02")
    with transaction.atomic():
        new = checkpoint_create(chain=Chain.objects.select_for_update().get(pk=chain.pk))
    result = consistency_evidence(chain, old, new)
    assert result["consistent"] is True and result["proof"]
    forged = Checkpoint(chain=chain, tree_size=new.tree_size, root="0" * 64, timestamp="", key_id="", signature="")
    assert consistency_evidence(chain, old, forged)["consistent"] is False
    client = Client()
    client.force_login(world.erin)
    body = client.get(reverse("ledger")).content.decode()
    assert "一致性证明" in body
    response = client.post(reverse("ledger_verify", args=["J001"]))
    assert response.status_code == 200 and "核验通过" in response.content.decode()
    assert Client().get(reverse("ledger")).status_code == 302
    client.force_login(world.alice)
    assert client.get(reverse("ledger")).status_code == 403


def test_a_deleted_automatic_checkpoint_is_reported(world: World, settings):
    settings.LEDGER_CHECKPOINT_EVERY = 10
    org_unit_create(actor=None, code="K011", name="检查点被删的单位")
    for i in range(12):
        with transaction.atomic():
            event_append(fonds="K011", actor=None, action="test.tick", subject_type="t", subject_id=i, payload={})
    chain = Chain.objects.get(fonds="K011")
    assert chain_verify(chain) is None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER ledger_checkpoint_no_delete")
        cursor.execute("DELETE FROM ledger_checkpoint WHERE chain_id = %s AND tree_size = 10", [chain.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    problem = chain_verify(chain)
    assert problem is not None and problem.seq == 10 and "自动检查点" in problem.what
