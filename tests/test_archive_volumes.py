"""Volumes: building, the acceptance check, the organizer's and the checker's signatures, 件号 and 档号."""

from __future__ import annotations

import pytest

from jishi.archives import services
from jishi.archives.acceptance import volume_gaps
from jishi.archives.models import ArchiveItem, NumberSequence, Volume, VolumeKind, VolumeStatus
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN
from jishi.ledger.models import Event
from jishi.selection.models import Material
from jishi.selection.services import batch_create, nomination_add
from jishi.selection.walk import walk


@pytest.fixture
def finished(finished_batch):
    return finished_batch


def _accept(world, volume):
    volume = services.volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN, notes="")
    return services.volume_accept(actor=world.bob, volume=volume, pin=SIGNING_PIN)


def test_building_a_finished_batch_files_a_personal_and_a_batch_volume_in_procedure_order(world, finished):
    volumes = services.volume_build(actor=world.frank, batch=finished)
    assert sorted(v.kind for v in volumes) == [VolumeKind.BATCH, VolumeKind.PERSONAL]
    personal = next(v for v in volumes if v.kind == VolumeKind.PERSONAL)
    steps = [s for s in personal.items.exclude(step_id="").values_list("step_id", flat=True)]
    order = [s.id for s in finished.procedure.definition.steps()]
    assert steps == sorted(steps, key=order.index)
    assert list(personal.items.values_list("item_type", flat=True))[-2:] == ["report_form", "approval_form"]
    batch_volume = next(v for v in volumes if v.kind == VolumeKind.BATCH)
    assert batch_volume.items.filter(item_type="notebook", file_format="PDF").count() == 1
    assert Event.objects.filter(action="archive.volume_build", subject_type="volume").count() == 2
    assert volume_gaps(personal) == []


def test_items_carry_retention_by_type_with_the_documented_exceptions(world, finished):
    batch_volume = next(v for v in services.volume_build(actor=world.frank, batch=finished) if v.kind == "batch")
    retention = dict(batch_volume.items.filter(item_type="material").values_list("item_id", "retention"))
    assert retention["I13"] == "D30" and retention["I17"] == "D10" and retention["I03"] == "Y"


def test_acceptance_assigns_gap_free_numbers_per_retention_and_both_people_sign(world, finished):
    volumes = services.volume_build(actor=world.frank, batch=finished)
    for volume in volumes:
        _accept(world, volume)
    items = ArchiveItem.objects.filter(fonds="J001")
    for retention in ("Y", "D30", "D10"):
        numbers = sorted(items.filter(retention=retention).values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert NumberSequence.objects.get(fonds="J001", retention=retention).last == len(numbers)
    first = items.get(retention="Y", number=1)
    assert first.code == f"J001-WS·{first.year}-Y-GB-0001"
    accept = Event.objects.filter(action="archive.volume_accept").order_by("seq").first()
    assert accept is not None
    assert {(s.signer, s.role) for s in accept.signatures.all()} == {("bob", "checker")}
    organize = Event.objects.filter(action="archive.volume_organize").first()
    assert {(s.signer, s.role) for s in organize.signatures.all()} == {("frank", "organizer")}
    assert all(v.status == VolumeStatus.ARCHIVED for v in type(volumes[0]).objects.all())


def test_the_checker_cannot_be_the_organizer(world, finished):
    volume = services.volume_build(actor=world.frank, batch=finished)[0]
    volume = services.volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN)
    with pytest.raises(ApplicationError) as refused:
        services.volume_accept(actor=world.frank, volume=volume, pin=SIGNING_PIN)
    assert refused.value.code == "same_person"
    assert not ArchiveItem.objects.filter(number__isnull=False).exists()


def test_a_changed_file_blocks_organizing_and_names_the_item(world, finished, settings, tmp_path):
    from jishi.core import storage

    volume = next(v for v in services.volume_build(actor=world.frank, batch=finished) if v.kind == "personal")
    report = volume.items.get(item_type="report_form")
    path = storage.path_for(report.sha256)
    path.chmod(0o640)
    path.write_bytes(path.read_bytes() + b"%tampered")
    gaps = volume_gaps(volume)
    assert [(g.kind, g.where) for g in gaps] == [("file", report.title)]
    with pytest.raises(ApplicationError) as refused:
        services.volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN)
    assert refused.value.code == "gaps"
    assert not Event.objects.filter(action="archive.volume_organize").exists()


def test_a_missing_required_item_and_a_later_change_are_listed_as_gaps(world, finished):
    volume = next(v for v in services.volume_build(actor=world.frank, batch=finished) if v.kind == "personal")
    volume.items.filter(item_id="I25").delete()
    Material.objects.filter(record__batch=finished, item_id="I25").update(title="改过的考察材料")
    record = finished.records.filter(step_id="K12").first()
    from django.db import transaction

    from jishi.selection.services import _log  # an act on the record after the volume was built

    with transaction.atomic():
        _log(finished, world.alice, "step.save", record, {"step": "K12"})
    kinds = {g.kind: g for g in volume_gaps(volume)}
    assert "I25" in kinds["missing"].where
    assert "stale" in kinds


def test_an_unfinished_person_gets_no_volume_and_other_units_are_refused(world, batch):
    with pytest.raises(ApplicationError) as refused:
        services.volume_build(actor=world.frank, batch=batch)
    assert refused.value.code == "nothing_to_build"
    with pytest.raises(PermissionDenied):
        services.volume_build(actor=world.grace, batch=batch)
    assert not Event.objects.filter(action__startswith="archive.").exists()


def test_completing_the_last_step_files_the_person_and_the_batch_at_once(world, settings):
    settings.ARCHIVE_AUTO_BUILD = True
    b = batch_create(actor=world.alice, org_unit=world.city, title="自动组卷批次", positions=world.positions[:1])
    nomination_add(actor=world.alice, batch=b, cadre=world.cadres[0], position=world.positions[0])
    walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    built = Event.objects.filter(action="archive.volume_build").order_by("seq")
    assert sorted(Volume.objects.filter(batch=b).values_list("kind", flat=True)) == ["batch", "personal"]
    assert built.exists() and all(e.actor_name.endswith("(alice)") for e in built)
