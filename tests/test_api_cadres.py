"""API: cadres (干部信息) — list, show, create, and 任免审批表 (LRMX) export, preview and import."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from test_lrmx import BILLION_LAUGHS, ID_NUMBER, XXE, counts, sample_form

from jishi.cadres import lrmx
from jishi.cadres.models import Cadre, FamilyMember
from jishi.core.testing import World, cadre_data
from jishi.ledger.models import Event
from jishi.selection.models import Batch
from tests.api_helpers import ApiClient


def _new_cadre(name: str = "周明", **overrides: Any) -> dict[str, Any]:
    data = cadre_data(name, id_number=ID_NUMBER, **overrides)
    data["resume"] = "\n".join(data["resume"])
    return {"unit": "J001", **data}


def _file(data: bytes, name: str = "王小明.lrmx") -> dict[str, Any]:
    return {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")}


def _forbidden(answer: tuple[int, Any], code: str = "forbidden") -> bool:
    status, body = answer
    return status == 403 and body["error"]["code"] == code and body["error"]["message"]


# List and detail -------------------------------------------------------------------------------------


def test_alice_lists_the_city_cadres_with_filters_and_no_id_numbers(world: World):
    api = ApiClient(world.alice)
    status, body = api.get("/cadres")
    assert status == 200 and body["count"] == 4
    assert {item["name"] for item in body["items"]} == {"张伟", "刘洋", "杨帆", "赵敏"}
    first = body["items"][0]
    assert set(first) == {"id", "name", "sex", "birth_month", "org_unit", "current_post", "current_rank"}
    assert first["org_unit"] == "J001" and first["birth_month"] == "1982-05-01"
    status, body = api.get("/cadres", q="张")
    assert status == 200 and [item["name"] for item in body["items"]] == ["张伟"]
    assert api.get("/cadres", unit="J002")[1]["count"] == 0  # alice acts in the city only


def test_carol_the_dept_leader_also_sees_the_county_cadres_filtered_by_unit(world: World):
    status, body = ApiClient(world.carol).get("/cadres", unit="J002")
    assert status == 200 and [item["name"] for item in body["items"]] == ["孙浩"]


def test_sam_the_sysadmin_lists_no_cadres_as_on_the_web(world: World):
    status, body = ApiClient(world.sam).get("/cadres")
    assert status == 200 and body["count"] == 0 and body["items"] == []
    assert _forbidden(ApiClient(world.sam).get(f"/cadres/{world.cadres[0].pk}"))


def test_the_detail_shows_the_approval_form_fields_and_the_masked_id_number_only_to_alice(world: World):
    cadre = ApiClient(world.alice).post("/cadres", _new_cadre())[1]
    status, body = ApiClient(world.alice).get(f"/cadres/{cadre['id']}")
    assert status == 200 and body["name"] == "周明" and body["org_unit_name"] == "中共内江市委组织部"
    assert body["current_rank_display"] == "乡科级正职" and body["work_start_month"] == "2004-07-01"
    assert body["resume"].splitlines()[1].startswith("2015.03--")
    assert body["family"][0]["relation"] == "妻子" and body["nominations"] == []
    assert body["id_number_masked"] == f"{ID_NUMBER[:6]}********{ID_NUMBER[-4:]}" and body["can_export_lrmx"]
    assert ID_NUMBER not in json.dumps(body)
    status, seen_by_frank = ApiClient(world.frank).get(f"/cadres/{cadre['id']}")
    assert status == 200 and seen_by_frank["id_number_masked"] is None and not seen_by_frank["can_export_lrmx"]


def test_grace_from_the_county_cannot_read_a_city_cadre(world: World):
    api = ApiClient(world.grace)
    assert _forbidden(api.get(f"/cadres/{world.cadres[0].pk}"))
    assert api.get(f"/cadres/{world.county_cadre.pk}")[0] == 200
    status, body = api.get("/cadres/999999")
    assert status == 404 and body["error"]["code"] == "not_found"


# Create ---------------------------------------------------------------------------------------------


def test_alice_creates_a_cadre_with_family_and_it_is_on_the_ledger(world: World):
    status, body = ApiClient(world.alice).post("/cadres", _new_cadre(), key="new-cadre-1")
    assert status == 201 and body["name"] == "周明" and body["org_unit"] == "J001"
    cadre = Cadre.objects.get(pk=body["id"])
    assert cadre.id_number == ID_NUMBER and cadre.family.get().name == "某某"
    event = Event.objects.get(action="cadre.create", subject_id=str(cadre.pk))
    assert event.actor == world.alice and ID_NUMBER not in event.payload
    assert Cadre.objects.filter(name="周明").count() == 1


def test_a_retried_create_with_the_same_key_creates_one_cadre(world: World):
    api = ApiClient(world.alice)
    first = api.post("/cadres", _new_cadre(), key="retry-cadre")
    again = api.post("/cadres", _new_cadre(), key="retry-cadre")
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    assert Cadre.objects.filter(name="周明").count() == 1


def test_a_create_with_a_wrong_id_check_character_or_an_unknown_unit_is_refused(world: World):
    api = ApiClient(world.alice)
    before = counts()
    wrong = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    status, body = api.post("/cadres", {**_new_cadre(), "id_number": wrong})
    assert status == 400 and body["error"]["code"] == "invalid_id_number"
    status, body = api.post("/cadres", {**_new_cadre(), "current_rank": "emperor"})
    assert status == 400 and body["error"]["code"] == "invalid_rank"
    status, body = api.post("/cadres", {**_new_cadre(), "unit": "J999"})
    assert status == 400 and body["error"]["code"] == "unknown_unit"
    status, body = api.post("/cadres", {**_new_cadre(), "name": "x\x00y"})
    assert status == 422 and body["error"]["code"] == "validation"
    assert counts() == before


def test_a_read_only_token_erin_and_grace_cannot_create_a_city_cadre(world: World):
    reader, erin, grace = ApiClient(world.alice, scopes=("read",)), ApiClient(world.erin), ApiClient(world.grace)
    before = counts()
    assert _forbidden(reader.post("/cadres", _new_cadre()), "scope")
    assert _forbidden(erin.post("/cadres", _new_cadre()))  # 干部监督 sees cadres, does not create them
    assert _forbidden(grace.post("/cadres", _new_cadre()))
    assert counts() == before


def test_alice_updates_a_cadre_and_the_ledger_names_the_changed_fields_but_not_the_values(world: World):
    api = ApiClient(world.alice)
    _, created = api.post("/cadres", _new_cadre())
    status, body = api.put(f"/cadres/{created['id']}", _new_cadre(current_post="内江市财政局副局长"))
    assert status == 200 and body["current_post"] == "内江市财政局副局长"
    event = Event.objects.get(action="cadre.update", subject_id=str(created["id"]))
    assert event.actor == world.alice and "current_post" in event.payload and "副局长" not in event.payload
    grace = ApiClient(world.grace).put(f"/cadres/{created['id']}", _new_cadre(current_post="x"))
    assert grace[0] in (403, 404)
    bad = api.put(f"/cadres/{created['id']}", {**_new_cadre(), "id_number": "511002198205120011"})
    assert bad[0] == 400 and bad[1]["error"]["code"] == "invalid_id_number"
    assert Cadre.objects.get(pk=created["id"]).current_post == "内江市财政局副局长"


def test_a_mistaken_cadre_is_deleted_with_a_reason_but_one_in_a_batch_is_kept(world: World, batch: Batch):
    api = ApiClient(world.alice)
    _, created = api.post("/cadres", _new_cadre())
    assert ApiClient(world.erin).post(f"/cadres/{created['id']}/delete", {"reason": "误录"})[0] == 403
    status, _ = api.post(f"/cadres/{created['id']}/delete", {"reason": "误录重复人员"})
    assert status == 200 and not Cadre.objects.filter(pk=created["id"]).exists()
    assert Event.objects.filter(action="cadre.delete", subject_id=str(created["id"])).exists()
    nominated = batch.nominations.first().cadre
    status, body = api.post(f"/cadres/{nominated.pk}/delete", {"reason": "试图删除"})
    assert status == 400 and body["error"]["code"] == "in_use" and Cadre.objects.filter(pk=nominated.pk).exists()


# LRMX export ----------------------------------------------------------------------------------------


def test_alice_exports_the_lrmx_file_and_it_is_recorded(world: World):
    cadre = world.cadres[0]
    status, response = ApiClient(world.alice).get(f"/cadres/{cadre.pk}/lrmx")
    assert status == 200 and response["Content-Type"] == "application/xml"
    assert response["Cache-Control"] == "no-store" and "cadre-" in response["Content-Disposition"]
    assert lrmx.parse(response.content).name == "张伟"
    event = Event.objects.get(action="cadre.lrmx_export", subject_id=str(cadre.pk))
    assert event.actor == world.alice


def test_bob_exports_the_file_for_a_nomination_with_its_proposed_post(world: World, batch: Batch):
    nomination = batch.nominations.select_related("position").first()
    assert nomination is not None
    path = f"/cadres/{nomination.cadre_id}/lrmx"
    status, response = ApiClient(world.bob).get(path, nomination=nomination.pk)
    assert status == 200 and lrmx.parse(response.content).proposed_post == str(nomination.position)
    status, body = ApiClient(world.bob).get(f"/cadres/{world.cadres[3].pk}/lrmx", nomination=nomination.pk)
    assert status == 400 and body["error"]["code"] == "nomination_mismatch"


def test_frank_and_grace_cannot_export_a_city_cadre(world: World):
    path = f"/cadres/{world.cadres[0].pk}/lrmx"
    assert _forbidden(ApiClient(world.frank).get(path))  # 档案管理员 sees the cadre, not the ID number
    assert _forbidden(ApiClient(world.grace).get(path))
    assert not Event.objects.filter(action="cadre.lrmx_export").exists()


# LRMX preview and import ----------------------------------------------------------------------------


def test_alice_previews_then_imports_a_new_cadre_then_the_same_file_updates_it(world: World):
    api = ApiClient(world.alice)
    data = lrmx.build(sample_form())
    before = counts()
    status, preview = api.post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(data))
    assert status == 200 and preview["cadre_id"] is None and preview["name"] == "王小明"
    assert preview["suggested_post_since"] == "2015-03" and len(preview["sha256"]) == 64
    id_change = next(c for c in preview["changes"] if c["field"] == "id_number")
    assert id_change["new"] == f"{ID_NUMBER[:6]}********{ID_NUMBER[-4:]}" and ID_NUMBER not in json.dumps(preview)
    assert counts() == before  # a preview changes nothing

    form = {"unit": "J001", "sha256": preview["sha256"], "current_rank": "township_chief"}
    status, imported = api.post("/cadres/lrmx/import", form, files=_file(data), key="lrmx-1")
    assert status == 201 and imported["created"] and imported["name"] == "王小明"
    cadre = Cadre.objects.get(pk=imported["id"])
    assert cadre.org_unit == world.city and cadre.family.count() == 2 and str(cadre.current_post_since) == "2015-03-01"
    event = Event.objects.get(action="cadre.lrmx_import", subject_id=str(cadre.pk))
    assert event.actor == world.alice and json.loads(event.payload)["result"] == "created"

    status, again = api.post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(data))
    assert again["cadre_id"] == cadre.pk and again["changes"] == []
    status, updated = api.post("/cadres/lrmx/import", form, files=_file(data))
    assert status == 201 and updated == {"id": cadre.pk, "name": "王小明", "created": False}
    assert Cadre.objects.filter(name="王小明").count() == 1


def test_an_import_of_another_file_than_the_previewed_one_or_without_a_rank_is_refused(world: World):
    api = ApiClient(world.alice)
    data = lrmx.build(sample_form())
    before = counts()
    status, body = api.post("/cadres/lrmx/import", {"unit": "J001", "sha256": "0" * 64}, files=_file(data))
    assert status == 400 and body["error"]["code"] == "lrmx_stale"
    sha = api.post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(data))[1]["sha256"]
    status, body = api.post("/cadres/lrmx/import", {"unit": "J001", "sha256": sha}, files=_file(data))
    assert status == 400 and body["error"]["code"] == "invalid_rank"
    assert counts() == before


def test_hostile_and_oversize_files_are_refused_with_400_and_change_nothing(world: World, settings):
    api = ApiClient(world.alice)
    before = counts()
    for data, code in [
        (XXE, "lrmx_forbidden"),
        (BILLION_LAUGHS, "lrmx_forbidden"),
        (b"%PDF-1.7 not xml at all", "lrmx_malformed"),
        (b"<Html><body/></Html>", "lrmx_wrong_root"),
    ]:
        status, body = api.post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(data))
        assert status == 400 and body["error"]["code"] == code, code
        status, body = api.post("/cadres/lrmx/import", {"unit": "J001", "sha256": "a" * 64}, files=_file(data))
        assert status == 400, code
    settings.LRMX_MAX_BYTES = 1000
    status, body = api.post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(lrmx.build(sample_form())))
    assert status == 400 and body["error"]["code"] == "lrmx_too_large"
    assert counts() == before and not FamilyMember.objects.filter(name="李某").exists()


def test_grace_erin_and_a_read_only_token_cannot_preview_or_import_into_the_city(world: World):
    data = lrmx.build(sample_form())
    sha = ApiClient(world.alice).post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(data))[1]["sha256"]
    form = {"unit": "J001", "sha256": sha, "current_rank": "staff"}
    grace, erin, reader = ApiClient(world.grace), ApiClient(world.erin), ApiClient(world.alice, scopes=("read",))
    before = counts()
    assert _forbidden(grace.post("/cadres/lrmx/preview", {"unit": "J001"}, files=_file(data)))
    assert _forbidden(grace.post("/cadres/lrmx/import", form, files=_file(data)))
    assert _forbidden(erin.post("/cadres/lrmx/import", form, files=_file(data)))
    assert _forbidden(reader.post("/cadres/lrmx/import", form, files=_file(data)), "scope")
    assert counts() == before


def test_the_openapi_document_declares_the_lrmx_download_as_xml_and_the_upload_as_multipart(world: World):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    download = paths["/api/v1/cadres/{cadre_id}/lrmx"]["get"]["responses"]
    assert set(download["200"]["content"]) == {"application/xml"} and {"403", "404"} <= set(download)
    upload = paths["/api/v1/cadres/lrmx/import"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"] and "201" in upload["responses"]
    assert set(paths["/api/v1/cadres/{cadre_id}"]) == {"get", "put"}
