"""The archives API: 组卷, signed 整理 and 检查验收, the volume list and page with its gaps, the 归档文件目录, and
archived volumes downloaded as a ZIP of their BagIt package that passes the 四性检测 once unpacked."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from jishi.archives.models import Volume, VolumeStatus
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Event, Signature
from jishi.selection.models import Batch
from jishi.verify import verify_package
from tests.api_helpers import ApiClient


def _refused(answer: tuple[int, object], status: int = 403, code: str = "forbidden") -> None:
    got, body = answer
    assert got == status, body
    assert isinstance(body, dict) and body["error"]["code"] == code, body


def _unzip(response, into: Path) -> list[str]:
    """Unpack a downloaded ZIP safely and return its entry names."""
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        for name in names:
            path = PurePosixPath(name)
            assert not path.is_absolute() and ".." not in path.parts, name
        archive.extractall(into)
    return names


def test_frank_builds_and_organizes_and_bob_accepts_the_volumes_with_their_signatures(
    world: World, finished_batch: Batch
):
    _refused(ApiClient(world.grace).post(f"/archives/batches/{finished_batch.pk}/build"))
    _refused(ApiClient(world.dave).post(f"/archives/batches/{finished_batch.pk}/build"))  # 纪检监察 does not build
    frank = ApiClient(world.frank)

    status, built = frank.post(f"/archives/batches/{finished_batch.pk}/build", key="build-1")

    assert status == 201 and sorted(v["kind"] for v in built) == ["batch", "personal"]
    assert all(v["status"] == "draft" and v["built_by"] == world.frank.get_full_name() for v in built)
    assert Event.objects.filter(action="archive.volume_build", actor=world.frank).count() == 2
    assert frank.post(f"/archives/batches/{finished_batch.pk}/build", key="build-1") == (status, built)
    assert Event.objects.filter(action="archive.volume_build").count() == 2  # the retry was answered, not rebuilt

    personal = next(v for v in built if v["kind"] == "personal")
    url = f"/archives/volumes/{personal['id']}"
    status, page = frank.get(url)
    assert status == 200 and page["gaps"] == [] and page["items"] and page["items"][0]["number"] is None
    organize = {"notes": "盒内文件齐全。", "pin": SIGNING_PIN}
    _refused(ApiClient(world.frank, scopes=("read", "write")).post(f"{url}/organize", organize), code="scope")
    _refused(frank.post(f"{url}/organize", {**organize, "pin": "000000"}), 400, "wrong_pin")
    _refused(ApiClient(world.bob).post(f"{url}/organize", organize))  # 干部科长 checks, does not organize

    status, organized = frank.post(f"{url}/organize", organize)

    assert status == 200 and organized["status"] == "organized" and organized["notes"] == "盒内文件齐全。"
    event = Event.objects.get(action="archive.volume_organize", subject_id=str(personal["id"]))
    assert event.actor == world.frank and Signature.objects.filter(event=event, signer="frank", role="organizer")
    _refused(frank.get(f"{url}/export"), 400, "not_archived")
    _refused(ApiClient(world.bob, scopes=("read", "write")).post(f"{url}/accept", {"pin": SIGNING_PIN}), code="scope")
    _refused(frank.post(f"{url}/accept", {"pin": SIGNING_PIN}), 400, "same_person")

    status, accepted = ApiClient(world.bob).post(f"{url}/accept", {"pin": SIGNING_PIN})

    assert status == 200 and accepted["status"] == "archived" and accepted["checked_by"] == world.bob.get_full_name()
    assert [i["number"] for i in accepted["items"]] == list(range(1, len(accepted["items"]) + 1))
    assert all(i["code"].startswith("J001-") for i in accepted["items"]) and accepted["gaps"] == []
    event = Event.objects.get(action="archive.volume_accept", subject_id=str(personal["id"]))
    assert event.actor == world.bob and Signature.objects.filter(event=event, signer="bob", role="checker").exists()
    assert Volume.objects.get(pk=personal["id"]).status == VolumeStatus.ARCHIVED


def test_archived_volumes_are_listed_shown_and_their_catalogue_downloaded(world: World, archived_batch: Batch):
    frank = ApiClient(world.frank)

    status, body = frank.get("/archives/volumes")

    assert status == 200 and body["count"] == 2
    assert {v["status"] for v in body["items"]} == {"archived"} and all(v["item_count"] > 0 for v in body["items"])
    assert frank.get("/archives/volumes", status="archived", unit="J001", batch_id=archived_batch.pk)[1]["count"] == 2
    assert frank.get("/archives/volumes", status="draft")[1]["count"] == 0
    assert frank.get("/archives/volumes", unit="J002")[1]["count"] == 0
    personal = Volume.objects.get(batch=archived_batch, kind="personal")
    status, page = ApiClient(world.erin).get(f"/archives/volumes/{personal.pk}")  # 干部监督 may look
    assert status == 200 and page["code"] == personal.code and page["cadre_name"] == "张伟" and page["gaps"] == []
    assert len(page["items"]) == personal.items.count()

    status, pdf = frank.get(f"/archives/volumes/{personal.pk}/catalogue")
    assert status == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    status, xlsx = frank.get(f"/archives/volumes/{personal.pk}/catalogue", format="xlsx")
    assert status == 200 and xlsx.content.startswith(b"PK") and "attachment" in xlsx["Content-Disposition"]
    assert Event.objects.filter(action="archive.catalogue_export", actor=world.frank).count() == 2
    assert frank.get(f"/archives/volumes/{personal.pk}/catalogue", format="doc")[0] == 422

    _refused(ApiClient(world.grace).get(f"/archives/volumes/{personal.pk}"))
    _refused(ApiClient(world.grace).get(f"/archives/volumes/{personal.pk}/catalogue"))
    assert ApiClient(world.grace).get("/archives/volumes")[1]["count"] == 0  # the county sees its own archives only
    _refused(ApiClient(world.sam).get("/archives/volumes"))
    _refused(frank.get("/archives/volumes/999999"), 404, "not_found")


def test_a_volume_and_a_batch_download_as_zips_that_pass_the_package_verification(
    world: World, archived_batch: Batch, tmp_path: Path, monkeypatch
):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    # The personal file alone: its 干部任免审批表 material was registered on a batch-level record, whose
    # events the package must carry too.
    volume = Volume.objects.get(batch=archived_batch, kind="personal")
    frank = ApiClient(world.frank)

    status, response = frank.get(f"/archives/volumes/{volume.pk}/export")

    assert status == 200 and response["Content-Type"] == "application/zip"
    assert f'filename="{volume.code}.zip"' in response["Content-Disposition"]
    names = _unzip(response, tmp_path / "volume")
    assert f"{volume.code}/bagit.txt" in names
    report = verify_package(tmp_path / "volume" / volume.code)
    assert report.passed, report.to_text()
    assert report.volumes == [volume.code]
    event = Event.objects.get(action="archive.volume_export")
    assert event.actor == world.frank and event.subject_id == str(volume.pk)
    # The client closed the streamed answer once it was read (removing the temporary ZIP file).
    assert list(scratch.iterdir()) == []  # the package directory and the ZIP file are gone

    status, response = ApiClient(world.erin).get(f"/archives/batches/{archived_batch.pk}/export")

    assert status == 200 and response["Content-Type"] == "application/zip"
    _unzip(response, tmp_path / "batch")
    [root] = (tmp_path / "batch").iterdir()
    report = verify_package(root)
    assert report.passed, report.to_text()
    assert sorted(report.volumes) == sorted(v.code for v in Volume.objects.filter(batch=archived_batch))
    assert Event.objects.filter(action="archive.volume_export", actor=world.erin).count() == 2
    # The client closed the streamed answer once it was read (removing the temporary ZIP file).

    _refused(ApiClient(world.grace).get(f"/archives/volumes/{volume.pk}/export"))
    _refused(ApiClient(world.grace).get(f"/archives/batches/{archived_batch.pk}/export"))
    assert Event.objects.filter(action="archive.volume_export").count() == 3
