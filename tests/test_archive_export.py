"""Exporting archived volumes as BagIt packages, through the command as an archivist would run it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import bagit
import pytest
import time_machine
from django.core.management import CommandError, call_command

from jishi.archives import services, services_custody
from jishi.archives.models import ArchiveItem, Volume
from jishi.archives.package import write_sm3_manifest
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN
from jishi.ledger import signing
from jishi.ledger.models import Event
from jishi.ledger.verify import Witness
from jishi.verify import verify_package
from tests.archive_package_factory import rebag


@pytest.fixture
def archived(archived_batch, monkeypatch):
    monkeypatch.setenv("JISHI_SIGNING_PIN", SIGNING_PIN)
    return archived_batch


def test_an_exported_batch_is_a_valid_bag_with_metadata_ledger_and_every_file(world, archived, tmp_path, capsys):
    out = tmp_path / "pkg"
    call_command("archive", "export", "--batch", archived.number, "-o", str(out), "--user", "frank")
    assert "python -m jishi.verify" in capsys.readouterr().out
    bag = bagit.Bag(str(out))
    bag.validate()
    assert bag.info["Jishi-Package-Format"] == "jishi-archive-package-v1"
    root = ET.parse(out / "data" / "metadata.xml").getroot()
    volumes = root.findall("案卷")
    assert sorted(v.get("类型") for v in volumes) == ["batch", "personal"]
    files = [f for v in volumes for f in v.findall("文件")]
    electronic = [f for f in files if f.findtext("计算机文件名")]
    assert electronic and all((out / "data" / f.findtext("计算机文件名")).is_file() for f in electronic)
    assert all(f.findtext("档号").startswith("J001-WS·") for f in files)
    events = [json.loads(line) for line in (out / "data/ledger/events.jsonl").read_text().splitlines()]
    assert events[0]["seq"] == 1 and events[0]["action"] == "chain.genesis"
    assert {"archive.volume_accept", "step.confirm", "material.register"} <= {e["action"] for e in events}
    proofs = (out / "data/ledger/proofs.jsonl").read_text().splitlines()
    assert len(proofs) == len(events)
    exported = Event.objects.filter(action="archive.volume_export")
    assert exported.count() == 2 and exported.first().actor_name.endswith("(frank)")


def test_export_refuses_an_unaccepted_volume_and_an_existing_directory(world, archived, tmp_path):
    volume = Volume.objects.filter(batch=archived).first()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(CommandError, match="不是空目录"):
        call_command("archive", "export", volume.code, "-o", str(tmp_path / "full"), "--user", "frank")
    Volume.objects.filter(pk=volume.pk).update(status="organized")
    with pytest.raises(ApplicationError, match="尚未验收归档"):
        services.volume_export(actor=world.frank, volumes=[Volume.objects.get(pk=volume.pk)], out=tmp_path / "new")
    assert not (tmp_path / "new").exists()
    with pytest.raises(PermissionDenied, match="无权"):
        services.volume_export(actor=world.grace, volumes=[volume], out=tmp_path / "other")


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def test_a_fresh_export_passes_all_four_checks_offline_and_a_flipped_byte_is_named(world, archived, tmp_path):
    out = tmp_path / "pkg"
    call_command("archive", "export", "--batch", archived.number, "-o", str(out), "--user", "frank")
    report = verify_package(str(out))
    assert report.passed, report.to_text()
    done = subprocess.run([sys.executable, "-m", "jishi.verify", str(out), "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["passed"] is True
    target = next((out / "data" / "volumes").glob("*/items/*-report_form-*.pdf"))
    _flip(target)
    broken = verify_package(str(out))
    assert not broken.passed and not broken.category_passed("authenticity")
    rel = target.relative_to(out).as_posix()
    assert any(rel in p.item for p in broken.problems("A1"))


def test_destroyed_items_stay_listed_and_verify_only_with_their_signed_destruction_record(world, archived, tmp_path):
    expired = list(ArchiveItem.objects.filter(volume__batch=archived, retention="D10"))
    assert expired
    out = tmp_path / "pkg"
    with time_machine.travel(dt.datetime(expired[0].year + 11, 1, 5, 9, tzinfo=dt.UTC)):
        disposition = services_custody.disposition_propose(
            actor=world.frank, unit=world.city, items=expired, title="到期销毁", reason="保管期限已满"
        )
        services_custody.disposition_decide(
            actor=world.carol, disposition=disposition, approve=True, note="同意", pin=SIGNING_PIN
        )
        services_custody.disposition_execute(actor=world.frank, disposition=disposition, pin=SIGNING_PIN)
        call_command("archive", "export", "--batch", archived.number, "-o", str(out), "--user", "frank")
    report = verify_package(str(out))
    assert report.passed, report.to_text()
    metadata = (out / "data" / "metadata.xml").read_text(encoding="utf-8")
    assert metadata.count("<载体>已销毁</载体>") == len(expired)
    assert not list((out / "data" / "volumes").glob("*/items/D10-*"))


def test_the_verifier_reports_a_file_passed_off_as_destroyed(world, archived, tmp_path):
    out = tmp_path / "pkg"
    call_command("archive", "export", "--batch", archived.number, "-o", str(out), "--user", "frank")
    item = ArchiveItem.objects.filter(volume__batch=archived, item_type="report_form").get()
    meta = out / "data" / "metadata.xml"
    text = meta.read_text(encoding="utf-8")
    start = text.index(f"<档号>{item.code}</档号>")
    end = text.index("</文件>", start)
    block = text[start:end].replace("<载体>电子</载体>", "<载体>已销毁</载体>")
    meta.write_text(text[:start] + block + text[end:], encoding="utf-8")
    for f in (out / "data" / "volumes").glob("*/items/*-report_form-*.pdf"):
        f.unlink()
    rebag(out)
    report = verify_package(str(out))
    assert any(p.item == item.code for p in report.problems("C1")), report.to_text()


def test_a_witness_checkpoint_pins_the_units_key_and_exposes_a_rebuilt_chain(world, archived, tmp_path):
    out = tmp_path / "pkg"
    call_command("archive", "export", "--batch", archived.number, "-o", str(out), "--user", "frank")
    kept = tmp_path / "J001.checkpoint"
    call_command("ledger", "checkpoint", "--fonds", "J001", "--export", str(kept))
    witness = Witness.from_text(kept.read_text(encoding="utf-8"))
    assert verify_package(str(out), witnesses=(witness,)).passed
    # A forger who rebuilt the whole chain holds a different system key; the kept witness names the real one.
    forged_pair = signing.generate_keypair()
    message = signing.checkpoint_message(
        fonds="J001",
        tree_size=witness.tree_size,
        root_hex=witness.root,
        timestamp=witness.timestamp,
        algorithm="sha256",
    )
    other = dataclasses.replace(
        witness,
        public_key=forged_pair.public_key.hex(),
        key_id=signing.key_id(forged_pair.public_key),
        signature=signing.sign(forged_pair.private_key, message).hex(),
    )
    report = verify_package(str(out), witnesses=(other,))
    assert any("整体重建" in p.message for p in report.problems("A5"))
    done = subprocess.run(
        [sys.executable, "-m", "jishi.verify", str(out), "--witness", str(kept)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-2000:]


def _lines_without(path: Path, action: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    victim = next(i for i, line in enumerate(lines) if f'"action": "{action}"' in line)
    path.write_text("".join(lines[:victim] + lines[victim + 1 :]), encoding="utf-8")


def test_each_single_corruption_of_a_real_package_fails_with_its_category_and_item(world, archived, tmp_path):
    """One export, then each corruption applied to its own copy (the corruptions of the issue's list)."""
    pristine = tmp_path / "pristine"
    call_command("archive", "export", "--batch", archived.number, "-o", str(pristine), "--user", "frank")
    report_form = next(pristine.glob("data/volumes/*/items/*-report_form-*.pdf")).relative_to(pristine).as_posix()

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(pristine, target, symlinks=True)
        return target

    def failing(pkg: Path, check: str) -> list[str]:
        report = verify_package(str(pkg))
        assert not report.passed
        return [p.item + " " + p.message for p in report.problems(check)]

    dropped = copy("dropped")
    (dropped / report_form).unlink()
    assert any("report_form" in p or "J001-WS" in p for p in failing(dropped, "C1"))

    edited = copy("edited")
    meta = edited / "data" / "metadata.xml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("全程纪实报告表]", "全程纪实报告表（改）]"), encoding="utf-8"
    )
    rebag(edited)
    assert failing(edited, "A7")

    line_removed = copy("line_removed")
    _lines_without(line_removed / "data" / "ledger" / "events.jsonl", "step.confirm")
    rebag(line_removed)
    assert failing(line_removed, "C4")

    forged = copy("forged")
    proofs = forged / "data" / "ledger" / "proofs.jsonl"
    rows = [json.loads(line) for line in proofs.read_text(encoding="utf-8").splitlines()]
    victim = next(r for r in rows if r["path"])
    victim["path"][0] = ("0" if victim["path"][0][0] != "0" else "1") + victim["path"][0][1:]
    proofs.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    rebag(forged)
    assert any(f"第 {victim['seq']} 号事件" in p for p in failing(forged, "A4"))

    traversal = copy("traversal")
    with (traversal / "manifest-sha256.txt").open("a", encoding="utf-8") as fh:
        fh.write("0" * 64 + "  data/../../etc/passwd\n")
    assert any("../" in p for p in failing(traversal, "S1"))

    linked = copy("linked")
    (linked / "data" / "volumes" / "evil.pdf").symlink_to("/etc/passwd")
    assert any("evil.pdf" in p for p in failing(linked, "S2"))


def test_an_sm3_manifest_written_beside_sha256_verifies_and_catches_a_flip(world, archived, tmp_path):
    out = tmp_path / "pkg"
    call_command("archive", "export", "--batch", archived.number, "-o", str(out), "--user", "frank")
    write_sm3_manifest(out)
    assert (out / "manifest-sm3.txt").read_text(encoding="utf-8").count("  data/") > 10
    assert verify_package(str(out)).passed
    target = next(out.glob("data/volumes/*/items/*.json"))
    _flip(target)
    rel = target.relative_to(out).as_posix()
    assert any(rel in p.item and "sm3" in p.message.lower() for p in verify_package(str(out)).problems("A1"))


def test_a_unit_whose_chain_uses_sm3_exports_an_sm3_manifest_too(db, tmp_path, monkeypatch):
    from jishi.archives.services import volume_accept, volume_build, volume_organize
    from jishi.core.testing import build_world
    from jishi.selection.services import batch_create, nomination_add
    from jishi.selection.walk import walk

    world = build_world(city_algorithm="sm3")
    b = batch_create(actor=world.alice, org_unit=world.city, title="国密批次", positions=world.positions[:1])
    nomination_add(actor=world.alice, batch=b, cadre=world.cadres[0], position=world.positions[0])
    walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    for volume in volume_build(actor=world.frank, batch=b):
        volume_accept(
            actor=world.bob, volume=volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN), pin=SIGNING_PIN
        )
    out = tmp_path / "pkg"
    services.volume_export(actor=world.frank, volumes=list(Volume.objects.filter(batch=b)), out=out)
    assert (out / "manifest-sm3.txt").exists()
    checkpoints = json.loads((out / "data" / "ledger" / "checkpoints.json").read_text(encoding="utf-8"))
    assert checkpoints[0]["algorithm"] == "sm3"
    report = verify_package(str(out))
    assert report.passed, report.to_text()
    (out / "manifest-sm3.txt").unlink()
    rebag(out)
    assert not verify_package(str(out)).passed  # an SM3 chain's package without its SM3 manifest is refused


def test_a_personal_volume_exported_alone_carries_the_batch_records_of_its_materials(world, archived, tmp_path):
    volume = Volume.objects.get(batch=archived, kind="personal")
    assert volume.items.filter(item_type="material", step_id="Y05").exists()  # a batch record's material
    out = tmp_path / "pkg"
    call_command("archive", "export", volume.code, "-o", str(out), "--user", "frank")
    report = verify_package(str(out))
    assert report.passed, report.to_text()
