from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from jishi.core.exceptions import ApplicationError
from jishi.core.storage import path_for
from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Batch, Material, StepRecord


def _zip(part: str) -> bytes:
    # [Content_Types].xml declares the main part as Office does (jishi.core.safe_zip checks it).
    main = {"word/document.xml": "wordprocessingml.document", "xl/workbook.xml": "spreadsheetml.sheet"}
    types = "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'>"
    if part in main:
        content_type = f"application/vnd.openxmlformats-officedocument.{main[part]}.main+xml"
        types += f"<Override PartName='/{part}' ContentType='{content_type}'/>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(part, "<x/>")
        z.writestr("[Content_Types].xml", types + "</Types>")
    return buf.getvalue()


@pytest.fixture
def record(world: World, batch: Batch) -> StepRecord:
    return services.step_start(actor=world.alice, batch=batch, step_id="D01")


def _register(world: World, record: StepRecord, name: str, content: bytes) -> Material:
    return services.material_register(
        actor=world.alice, record=record, item_id="I01", title="扫描件", upload=SimpleUploadedFile(name, content)
    )


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("签字页.pdf", b"%PDF-1.7 scan", "pdf"),
        ("签字页.PNG", b"\x89PNG\r\n\x1a\n rest", "png"),
        ("签字页.jpeg", b"\xff\xd8\xff\xe0 rest", "jpeg"),
        ("记录.docx", _zip("word/document.xml"), "docx"),
        ("名册.xlsx", _zip("xl/workbook.xml"), "xlsx"),
        ("公文.ofd", _zip("OFD.xml"), "ofd"),
    ],
)
def test_the_type_is_sniffed_from_the_content(world: World, record: StepRecord, name: str, content: bytes, kind: str):
    material = _register(world, record, name, content)
    assert material.kind == kind
    assert path_for(material.sha256).read_bytes() == content
    assert f'"kind":"{kind}"' in Event.objects.filter(action="material.register").latest("seq").payload


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("报告.pdf", _zip("word/document.xml"), "与扩展名"),  # a Word file renamed to .pdf
        ("报告.docx", _zip("xl/workbook.xml"), "与扩展名"),
        ("报告.docx", _zip("evil.sh"), "无法识别"),  # a zip that is no office document
        ("扫描.jpg", b"%PDF-1.4", "与扩展名"),
        ("程序.exe", b"MZ\x90\x00", "只接受"),
        ("空.pdf", b"", "是空的"),
    ],
)
def test_mislabeled_or_unknown_uploads_are_refused_and_leave_nothing(
    world: World, record: StepRecord, settings, name: str, content: bytes, message: str
):
    with pytest.raises(ApplicationError, match=message):
        _register(world, record, name, content)
    assert not record.materials.exists()
    leftovers = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()] if settings.MEDIA_ROOT.exists() else []
    assert leftovers == []


def test_an_oversized_upload_is_refused_while_streaming(world: World, record: StepRecord, settings):
    settings.MATERIAL_MAX_BYTES = 1024
    with pytest.raises(ApplicationError, match="上限"):
        _register(world, record, "大.pdf", b"%PDF-" + b"x" * 2048)
    assert not record.materials.exists()


def test_the_same_content_is_stored_once_and_never_overwritten(world: World, record: StepRecord):
    first = _register(world, record, "a.pdf", b"%PDF-1.4 same")
    path = path_for(first.sha256)
    before = path.stat().st_mtime_ns
    second = _register(world, record, "b.pdf", b"%PDF-1.4 same")
    assert second.sha256 == first.sha256 and path.stat().st_mtime_ns == before


def test_download_checks_permission_and_records_the_access(world: World, record: StepRecord):
    material = _register(world, record, "签字页.pdf", b"%PDF-1.7 scan")
    client = Client()
    client.force_login(world.grace)
    assert client.get(reverse("material_download", args=[material.pk])).status_code == 403
    assert not Event.objects.filter(action="material.download").exists()
    client.force_login(world.erin)  # the city's 干部监督 may read the evidence
    response = client.get(reverse("material_download", args=[material.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.7 scan"
    event = Event.objects.get(action="material.download")
    assert event.actor == world.erin and material.sha256 in event.payload


def test_a_damaged_file_is_reported_not_served(world: World, record: StepRecord):
    material = _register(world, record, "签字页.pdf", b"%PDF-1.7 scan")
    path = path_for(material.sha256)
    path.chmod(0o640)
    path.write_bytes(b"%PDF-1.7 altered")
    client = Client()
    client.force_login(world.alice)
    response = client.get(reverse("material_download", args=[material.pk]))
    assert response.status_code == 400 and "已被改动" in response.content.decode()
