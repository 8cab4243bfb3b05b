"""Material files through a Django storage backend: the object-store path (InMemoryStorage stands in for
S3 through django-storages) and what a crash between writing a file and committing its row leaves."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jishi.core import storage
from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Batch, Material, StepRecord

SCAN = b"%PDF-1.7 signed paper page with wet-ink signatures"


@pytest.fixture
def record(world: World, batch: Batch) -> StepRecord:
    return services.step_start(actor=world.alice, batch=batch, step_id="D01")


@pytest.fixture
def object_store(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "materials": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return storage.material_storage()


def _upload(world: World, record: StepRecord, content: bytes = SCAN) -> Material:
    return services.material_register(
        actor=world.alice,
        record=record,
        item_id="I01",
        title="签字页扫描件",
        upload=SimpleUploadedFile("签字页.pdf", content),
    )


def test_an_object_store_keeps_the_file_under_its_digest(world: World, record: StepRecord, object_store):
    material = _upload(world, record)
    assert material.sha256 == hashlib.sha256(SCAN).hexdigest()
    assert object_store.exists(f"{material.sha256[:2]}/{material.sha256}")
    assert storage.local_root() is None
    with services.material_download(actor=world.bob, material=material) as stream:
        assert stream.read() == SCAN
    assert Event.objects.filter(action="material.download").count() == 1


def test_the_same_content_uploaded_twice_is_stored_once_and_never_overwritten(
    world: World, record: StepRecord, object_store
):
    first = _upload(world, record)
    name = storage.name_for(first.sha256)
    second = _upload(world, record)
    assert first.sha256 == second.sha256
    assert object_store.listdir(first.sha256[:2])[1] == [first.sha256]
    assert storage.file_problem(first.sha256) is None and object_store.exists(name)


def test_a_changed_object_is_reported_as_damaged(world: World, record: StepRecord, object_store):
    material = _upload(world, record)
    name = storage.name_for(material.sha256)
    object_store.delete(name)
    object_store.save(name, SimpleUploadedFile("x", b"%PDF-1.7 forged"))
    assert "内容已被改动" in storage.file_problem(material.sha256)


def test_a_crash_after_the_file_is_written_leaves_no_row_and_nothing_visible(
    world: World, record: StepRecord, monkeypatch
):
    def crash(*args, **kwargs):
        raise SystemExit("power cut before the row commits")

    monkeypatch.setattr(Material.objects, "create", crash)
    with pytest.raises(SystemExit):
        _upload(world, record)
    sha = hashlib.sha256(SCAN).hexdigest()
    # The file reached its final name before the row (so no row can ever lack its file) ...
    assert storage.path_for(sha).read_bytes() == SCAN
    # ... and nothing refers to it: no row, no ledger event, nothing the pages list.
    assert not Material.objects.filter(sha256=sha).exists()
    assert not Event.objects.filter(action="material.register").exists()
    # No temporary file is left behind under the name of a stored file.
    assert not [p for p in storage.path_for(sha).parent.parent.rglob(".upload-*")]


def test_a_crash_while_writing_leaves_no_temporary_file(world: World, record: StepRecord):
    class Broken(SimpleUploadedFile):
        def chunks(self, chunk_size=None):
            yield b"%PDF-1.7 half"
            raise OSError("disk full")

    with pytest.raises(OSError):
        services.material_register(
            actor=world.alice, record=record, item_id="I01", title="扫描件", upload=Broken("a.pdf", b"%PDF-1.7 half")
        )
    root = storage.local_root()
    assert not list(root.rglob("*")) or not [p for p in root.rglob("*") if p.is_file()]
    assert not Material.objects.exists()
