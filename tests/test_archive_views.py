"""The 档案管理 pages, driven as the named people would: frank files, bob checks, dave holds, carol approves.

Walking a batch takes seconds, so only a few tests use a finished batch and each checks several things.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from jishi.archives import services
from jishi.archives.models import (
    ArchiveItem,
    Disposition,
    DispositionStatus,
    LegalHold,
    PersonnelTransfer,
    Volume,
    VolumeKind,
    VolumeStatus,
)
from jishi.core.testing import SIGNING_PIN
from jishi.ledger.models import Event

WRONG_PIN = "000000"


def _client(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _text(response) -> str:
    return response.content.decode()


def _pdf_text(content: bytes) -> str:
    return re.sub(r"\s", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def _volume_table(response) -> str:
    """The 案卷 section of the list page (the 可组卷的批次 section below also names the volumes)."""
    body = _text(response)
    return body[body.index('id="volumes"') : body.index('id="buildable"')]


def _signers(event: Event) -> set[tuple[str, str]]:
    return {(s.signer, s.role) for s in event.signatures.all()}


@pytest.fixture
def finished(finished_batch):
    return finished_batch


@pytest.fixture
def personal(world, finished) -> Volume:
    """The personal draft volume of 张伟, built by frank."""
    built = services.volume_build(actor=world.frank, batch=finished)
    return next(v for v in built if v.kind == VolumeKind.PERSONAL)


@pytest.fixture
def archived(archived_batch):
    return archived_batch


# Cheap: no finished batch ---------------------------------------------------------------------------------


def test_building_an_unfinished_batch_shows_why_and_only_builders_get_the_button(world, batch):
    frank = _client(world.frank)
    page = _text(frank.get(reverse("archive_list")))
    assert "可组卷的批次" in page and batch.number in page
    assert reverse("archive_build", args=[batch.pk]) in page
    response = frank.post(reverse("archive_build", args=[batch.pk]))
    assert response.status_code == 400
    assert "没有可以组卷的人选或批次：流程尚未办结，或已全部归档。" in _text(response)
    assert not Volume.objects.exists()
    dave = _client(world.dave)
    page = _text(dave.get(reverse("archive_list")))
    assert batch.number in page and reverse("archive_build", args=[batch.pk]) not in page
    assert dave.post(reverse("archive_build", args=[batch.pk])).status_code == 403
    assert not Event.objects.filter(action__startswith="archive.").exists()


def test_the_system_administrator_sees_no_archive_pages(world, batch):
    sam = _client(world.sam)
    for name in ("archive_list", "archive_retention"):
        response = sam.get(reverse(name))
        assert response.status_code == 403, name
        assert "您没有查看档案的权限。" in _text(response)
        assert batch.number not in _text(response)
    assert sam.post(reverse("archive_build", args=[batch.pk])).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(world, batch):
    frank = _client(world.frank, enforce_csrf_checks=True)
    response = frank.post(reverse("archive_build", args=[batch.pk]))
    assert response.status_code == 403
    assert not Event.objects.filter(action__startswith="archive.").exists()
    assert frank.post(reverse("archive_propose"), {"title": "销毁", "reason": "到期"}).status_code == 403
    assert not Disposition.objects.exists()


def test_dispositions_are_shown_only_to_who_may_see_the_unit_and_missing_ones_are_404(world):
    county = Disposition.objects.create(
        org_unit=world.county,
        title="威远县到期档案销毁",
        reason="到期",
        proposed_by=world.grace,
        proposed_at=timezone.now(),
    )
    assert _client(world.frank).get(reverse("archive_disposition", args=[county.pk])).status_code == 403
    assert _client(world.frank).get(reverse("archive_disposition_pdf", args=[county.pk])).status_code == 403
    page = _client(world.erin).get(reverse("archive_disposition", args=[county.pk]))  # 干部监督 sees units below
    assert page.status_code == 200 and "威远县到期档案销毁" in _text(page)
    assert "签字提交" not in _text(page)  # erin may see, not approve
    assert _client(world.frank).get(reverse("archive_disposition", args=[999999])).status_code == 404
    assert _client(world.frank).get(reverse("archive_volume", args=[999999])).status_code == 404


# With a finished batch ------------------------------------------------------------------------------------


def test_frank_builds_from_the_list_page_and_the_volumes_are_listed_by_status(world, finished):
    frank = _client(world.frank)
    response = frank.post(reverse("archive_build", args=[finished.pk]), follow=True)
    codes = sorted(Volume.objects.filter(batch=finished).values_list("code", flat=True))
    assert len(codes) == 2
    body = _text(response)
    assert "已组卷：" in body and all(code in body for code in codes)
    built = Event.objects.filter(action="archive.volume_build")
    assert built.count() == 2 and all(e.actor_name.endswith("(frank)") for e in built)
    drafts = _volume_table(frank.get(reverse("archive_list"), {"status": "draft"}))
    assert all(code in drafts for code in codes) and "待整理（2）" in drafts
    assert not any(code in _volume_table(frank.get(reverse("archive_list"), {"status": "archived"})) for code in codes)
    assert "综合文书档案" in drafts and "个人文书档案" in drafts


def test_organizing_and_accepting_through_the_pages(world, personal):
    url = reverse("archive_volume", args=[personal.pk])
    frank, bob, grace = _client(world.frank), _client(world.bob), _client(world.grace)
    page = _text(frank.get(url))
    assert "验收检查未发现问题" in page and "整理签字" in page and "[张伟干部任免审批表]" in page

    notes = "本卷共若干件，均为电子件。"
    refused = frank.post(reverse("archive_organize", args=[personal.pk]), {"notes": notes, "pin": WRONG_PIN})
    assert refused.status_code == 400
    assert "签名口令错误" in _text(refused) and notes in _text(refused) and f'value="{WRONG_PIN}"' not in _text(refused)
    assert not Event.objects.filter(action="archive.volume_organize").exists()
    assert Volume.objects.get(pk=personal.pk).status == VolumeStatus.DRAFT

    done = frank.post(reverse("archive_organize", args=[personal.pk]), {"notes": notes, "pin": SIGNING_PIN})
    assert done.status_code == 302 and done["Location"] == url
    organize = Event.objects.get(action="archive.volume_organize")
    assert _signers(organize) == {("frank", "organizer")}
    volume = Volume.objects.get(pk=personal.pk)
    assert volume.status == VolumeStatus.ORGANIZED and volume.notes == notes and volume.organize_event == organize.seq

    page = _text(frank.get(url))
    assert "您是本卷的整理人" in page and reverse("archive_accept", args=[personal.pk]) not in page
    same = frank.post(reverse("archive_accept", args=[personal.pk]), {"pin": SIGNING_PIN})
    assert same.status_code == 400 and "检查人不能是整理人本人。" in _text(same)
    assert Volume.objects.get(pk=personal.pk).status == VolumeStatus.ORGANIZED

    assert reverse("archive_accept", args=[personal.pk]) in _text(bob.get(url))
    assert bob.post(reverse("archive_accept", args=[personal.pk]), {"pin": SIGNING_PIN}).status_code == 302
    accept = Event.objects.get(action="archive.volume_accept")
    assert _signers(accept) == {("bob", "checker")}
    volume = Volume.objects.get(pk=personal.pk)
    assert volume.status == VolumeStatus.ARCHIVED and volume.accept_event == accept.seq
    first = volume.items.order_by("position").first()
    assert first is not None and first.code.startswith("J001-WS·")
    page = _text(bob.get(url))
    assert first.code in page and "已归档" in page and world.frank.full_name in page and world.bob.full_name in page
    assert f"J001#{organize.seq}" in page and f"J001#{accept.seq}" in page

    pdf = bob.get(reverse("archive_catalogue", args=[personal.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment")
    assert quote(f"{volume.code}-归档文件目录.pdf") in pdf["Content-Disposition"]
    assert pdf.content.startswith(b"%PDF") and first.code in _pdf_text(pdf.content)
    xlsx = bob.get(reverse("archive_catalogue", args=[personal.pk, "xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats") and xlsx.content.startswith(b"PK")
    exports = Event.objects.filter(action="archive.catalogue_export", subject_id=str(personal.pk))
    assert exports.count() == 2 and all(e.actor_name.endswith("(bob)") for e in exports)
    assert bob.get(reverse("archive_catalogue", args=[personal.pk, "doc"])).status_code == 404

    assert grace.get(url).status_code == 403
    assert grace.get(reverse("archive_catalogue", args=[personal.pk, "pdf"])).status_code == 403
    assert grace.post(reverse("archive_hold_place", args=[personal.pk]), {"reason": "核查"}).status_code == 403
    assert exports.count() == 2 and not LegalHold.objects.exists()


def test_a_changed_file_is_listed_as_a_gap_on_the_volume_page_and_blocks_organizing(world, personal):
    from jishi.core import storage

    report = personal.items.get(item_type="report_form")
    path = storage.path_for(report.sha256)
    path.chmod(0o640)
    path.write_bytes(path.read_bytes() + b"%tampered")
    frank = _client(world.frank)
    page = _text(frank.get(reverse("archive_volume", args=[personal.pk])))
    assert "验收检查未发现问题" not in page
    assert "文件缺失或被改动" in page and report.title in page
    refused = frank.post(reverse("archive_organize", args=[personal.pk]), {"notes": "说明", "pin": SIGNING_PIN})
    assert refused.status_code == 400 and "验收未通过，共 1 处问题" in _text(refused)
    assert not Event.objects.filter(action="archive.volume_organize").exists()


def test_frank_signs_the_transfer_to_the_personnel_file_on_the_page(world, archived):
    volume = Volume.objects.get(batch=archived, kind=VolumeKind.PERSONAL)
    url = reverse("archive_volume", args=[volume.pk])
    assert reverse("archive_transfer", args=[volume.pk]) not in _text(_client(world.alice).get(url))
    frank = _client(world.frank)
    page = _text(frank.get(url))
    assert "移交干部人事档案" in page and "9-2 任免" in page
    empty = frank.post(reverse("archive_transfer", args=[volume.pk]), {"received_by": "", "pin": SIGNING_PIN})
    assert empty.status_code == 400 and not PersonnelTransfer.objects.exists()
    signed = frank.post(
        reverse("archive_transfer", args=[volume.pk]), {"received_by": "干部档案室 周敏", "pin": SIGNING_PIN}
    )
    assert signed.status_code == 302
    transfer = PersonnelTransfer.objects.get(volume=volume)
    event = Event.objects.get(action="archive.transfer_sign")
    assert transfer.event_seq == event.seq and _signers(event) == {("frank", "handover")}
    page = _text(frank.get(url))
    assert "干部档案室 周敏" in page and f"J001#{event.seq}" in page
    assert reverse("archive_transfer", args=[volume.pk]) not in page
    listing = frank.get(reverse("archive_transfer_list", args=[volume.pk, "pdf"]))
    assert listing["Content-Type"] == "application/pdf" and listing.content.startswith(b"%PDF")
    assert "干部档案室周敏" in _pdf_text(listing.content)
    assert Event.objects.filter(action="archive.transfer_list_export", actor=world.frank).count() == 1


def test_a_hold_by_dave_blocks_the_disposition_until_released_then_carol_approves_and_frank_executes(world, archived):
    ArchiveItem.objects.filter(volume__batch=archived, retention="D10").update(year=2010)
    expired = list(ArchiveItem.objects.filter(volume__batch=archived, retention="D10"))
    assert expired
    volume = expired[0].volume
    dave, frank, carol = _client(world.dave), _client(world.frank), _client(world.carol)

    assert dave.post(reverse("archive_hold_place", args=[volume.pk]), {"reason": "信访核查需要"}).status_code == 302
    hold = LegalHold.objects.get(volume=volume)
    assert Event.objects.filter(action="archive.hold_place", actor=world.dave).count() == 1

    retention = _text(frank.get(reverse("archive_retention")))
    assert all(i.code in retention for i in expired) and "冻结中" in retention
    chosen = [i.pk for i in expired if i.volume_id == volume.pk]
    form = {
        "unit": world.city.pk,
        "title": "2026年到期档案销毁",
        "reason": "保管期限已满，无继续保存价值",
        "items": chosen,
    }
    refused = frank.post(reverse("archive_propose"), form)
    body = _text(refused)
    assert refused.status_code == 400 and "这些案卷已被冻结，其文件不能列入销毁" in body
    assert "2026年到期档案销毁" in body and "保管期限已满，无继续保存价值" in body
    assert f'value="{chosen[0]}" id="item-{chosen[0]}" checked' in body
    assert not Disposition.objects.exists()

    release = dave.post(reverse("archive_hold_release", args=[hold.pk]), {"reason": "核查结束"})
    assert release.status_code == 302 and not LegalHold.objects.get(pk=hold.pk).is_active
    assert frank.post(reverse("archive_propose"), form).status_code == 302
    disposition = Disposition.objects.get()
    url = reverse("archive_disposition", args=[disposition.pk])
    assert reverse("archive_decide", args=[disposition.pk]) not in _text(frank.get(url))

    wrong = carol.post(
        reverse("archive_decide", args=[disposition.pk]), {"approve": "1", "note": "同意销毁", "pin": "1"}
    )
    assert wrong.status_code == 400 and "签名口令错误" in _text(wrong) and "同意销毁" in _text(wrong)
    approve = carol.post(
        reverse("archive_decide", args=[disposition.pk]), {"approve": "1", "note": "同意销毁", "pin": SIGNING_PIN}
    )
    assert approve.status_code == 302
    disposition.refresh_from_db()
    assert disposition.status == DispositionStatus.APPROVED and disposition.decided_by == world.carol
    assert _signers(Event.objects.get(action="archive.disposition_approve")) == {("carol", "approver")}

    assert frank.post(reverse("archive_execute", args=[disposition.pk]), {"pin": SIGNING_PIN}).status_code == 302
    disposition.refresh_from_db()
    assert disposition.status == DispositionStatus.EXECUTED
    assert _signers(Event.objects.get(action="archive.disposition_execute")) == {("frank", "executor")}
    assert all(i.destroyed for i in ArchiveItem.objects.filter(pk__in=chosen))
    assert "已销毁" in _text(frank.get(reverse("archive_volume", args=[volume.pk])))
    pdf = frank.get(reverse("archive_disposition_pdf", args=[disposition.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert Event.objects.filter(action="archive.disposition_list_export", actor=world.frank).exists()
