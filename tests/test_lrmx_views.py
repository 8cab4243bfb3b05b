"""任免审批表 (LRMX) pages: upload → preview → confirm, and the download."""

from __future__ import annotations

import json
from urllib.parse import quote

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from test_lrmx import XXE, counts, sample_form

from jishi.cadres import lrmx
from jishi.cadres.models import Cadre, FamilyMember
from jishi.core.testing import World
from jishi.ledger.models import Event
from jishi.selection.models import Batch


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, unit_pk: int, data: bytes, name: str = "王小明.lrmx"):
    return client.post(
        reverse("cadre_lrmx_import"),
        {"org_unit": unit_pk, "file": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
    )


def test_the_cadre_list_offers_the_upload_to_a_clerk_only(world: World):
    assert "导入任免审批表（LRMX）" in _client(world.alice).get(reverse("cadre_list")).content.decode()
    assert "导入任免审批表（LRMX）" not in _client(world.erin).get(reverse("cadre_list")).content.decode()
    assert _client(world.erin).get(reverse("cadre_lrmx_import")).status_code == 403


def test_upload_preview_confirm_creates_the_cadre(world: World):
    client = _client(world.alice)
    data = lrmx.build(sample_form())
    before = counts()

    preview = _upload(client, world.city.pk, data)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "确认导入" in body and "字段" in body and "原值" in body and "新值" in body
    assert "王小明" in body and "内江市财政局预算科科长" in body
    assert counts() == before  # nothing saved before the confirmation

    sha = preview.context["preview"].sha256
    response = client.post(
        reverse("cadre_lrmx_confirm"),
        {"sha256": sha, "current_rank": "township_chief", "current_post_since": "2015-03", "current_rank_since": ""},
    )
    cadre = Cadre.objects.get(name="王小明")
    assert response.status_code == 302 and response["Location"] == reverse("cadre_detail", args=[cadre.pk])
    assert cadre.org_unit == world.city and cadre.family.count() == 2
    event = Event.objects.filter(action="cadre.lrmx_import").get()
    assert json.loads(event.payload)["file_sha256"] == sha and event.actor == world.alice
    assert "cadre_lrmx_upload" not in client.session  # the bytes do not linger

    # The same file again: found by ID number, nothing to change.
    again = _upload(client, world.city.pk, data)
    assert again.context["preview"].cadre == cadre and again.context["preview"].changes == []
    assert "没有变化" in again.content.decode()


def test_a_new_cadre_without_a_rank_stays_on_the_preview_with_the_message(world: World):
    client = _client(world.alice)
    preview = _upload(client, world.city.pk, lrmx.build(sample_form()))
    response = client.post(reverse("cadre_lrmx_confirm"), {"sha256": preview.context["preview"].sha256})
    assert response.status_code == 400 and "新建干部需要选择现任职级" in response.content.decode()
    assert not Cadre.objects.filter(name="王小明").exists()


def test_confirming_another_file_than_the_previewed_one_is_refused(world: World):
    client = _client(world.alice)
    _upload(client, world.city.pk, lrmx.build(sample_form()))
    before = counts()
    response = client.post(reverse("cadre_lrmx_confirm"), {"sha256": "0" * 64, "current_rank": "staff"})
    assert response.status_code == 302 and response["Location"] == reverse("cadre_lrmx_import")
    assert counts() == before


def test_confirming_without_an_upload_is_refused(world: World):
    response = _client(world.alice).post(reverse("cadre_lrmx_confirm"), {"sha256": "a" * 64, "current_rank": "staff"})
    assert response.status_code == 302 and not Event.objects.filter(action="cadre.lrmx_import").exists()


def test_a_hostile_upload_is_refused_on_the_form(world: World):
    before = counts()
    response = _upload(_client(world.alice), world.city.pk, XXE)
    assert response.status_code == 400 and "DTD" in response.content.decode()
    assert counts() == before


def test_a_county_clerk_cannot_upload_into_the_city(world: World):
    client = _client(world.grace)
    before = counts()
    response = _upload(client, world.city.pk, lrmx.build(sample_form()))
    assert response.status_code == 403
    assert counts() == before and "cadre_lrmx_upload" not in client.session


def test_export_downloads_the_file_and_records_it(world: World):
    cadre = world.cadres[0]
    response = _client(world.alice).get(reverse("cadre_lrmx_export", args=[cadre.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/xml"
    assert f"filename*=UTF-8''{quote('张伟.lrmx')}" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    assert lrmx.parse(response.content).name == "张伟"
    assert Event.objects.filter(action="cadre.lrmx_export", subject_id=str(cadre.pk)).count() == 1


def test_export_for_a_nomination_carries_the_proposed_post(world: World, batch: Batch):
    nomination = batch.nominations.first()
    assert nomination is not None
    url = reverse("cadre_lrmx_export", args=[nomination.cadre_id]) + f"?nomination={nomination.pk}"
    response = _client(world.bob).get(url)
    assert lrmx.parse(response.content).proposed_post == str(nomination.position)


def test_the_detail_page_links_the_export(world: World):
    body = _client(world.alice).get(reverse("cadre_detail", args=[world.cadres[0].pk])).content.decode()
    assert reverse("cadre_lrmx_export", args=[world.cadres[0].pk]) in body


def test_a_county_clerk_cannot_export_a_city_cadre(world: World):
    response = _client(world.grace).get(reverse("cadre_lrmx_export", args=[world.cadres[0].pk]))
    assert response.status_code in (403, 404)
    assert not Event.objects.filter(action="cadre.lrmx_export").exists()


def test_an_archivist_who_sees_the_cadre_may_not_export_it(world: World):
    response = _client(world.frank).get(reverse("cadre_lrmx_export", args=[world.cadres[0].pk]))
    assert response.status_code == 403 and FamilyMember.objects.exists()
    assert not Event.objects.filter(action="cadre.lrmx_export").exists()
