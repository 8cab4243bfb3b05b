"""Exporting archived volumes as BagIt packages, through the command as an archivist would run it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import bagit
import pytest
from django.core.management import CommandError, call_command

from jishi.archives import services
from jishi.archives.models import Volume
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN
from jishi.ledger.models import Event
from jishi.selection.services import batch_create, nomination_add
from jishi.selection.walk import walk


@pytest.fixture
def archived(world, monkeypatch):
    b = batch_create(
        actor=world.alice, org_unit=world.city, title="2026年第四批市管干部调整", positions=world.positions[:1]
    )
    nomination_add(actor=world.alice, batch=b, cadre=world.cadres[0], position=world.positions[0])
    walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    monkeypatch.setenv("JISHI_SIGNING_PIN", SIGNING_PIN)
    call_command("archive", "build", b.number, "--user", "frank")
    for volume in Volume.objects.filter(batch=b):
        call_command("archive", "organize", volume.code, "--user", "frank")
        call_command("archive", "accept", volume.code, "--user", "bob")
    return b


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
