"""The supervision API: warnings listed and read as on the 监督看板, closed with a signed explanation, and the
public 任前公示 notices served without a token with only what the public page shows."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import time_machine
from django.test import Client
from django.utils import timezone

from jishi.accounts.services import role_grant, user_create
from jishi.cadres.services import cadre_create
from jishi.core.roles import Role
from jishi.core.testing import PASSWORD, SIGNING_PIN, World, cadre_data
from jishi.ledger.models import Event, Signature
from jishi.selection.models import Batch, RecordStatus, StepRecord
from jishi.selection.services import batch_create, nomination_add
from jishi.supervision import public
from jishi.supervision.models import EarlyWarning, WarningStatus
from jishi.supervision.rules import Finding
from jishi.supervision.services import warning_raise
from tests.api_helpers import ApiClient


def _warn(unit, code: str, severity: str, message: str, *, batch: Batch | None = None) -> EarlyWarning:
    warning = warning_raise(
        finding=Finding(code=code, severity=severity, message=message, basis="《条例》"),
        org_unit=unit,
        fingerprint=f"{code}:{unit.code}:{message}",
        batch=batch,
        step_id="D01" if batch else "",
    )
    assert warning is not None
    return warning


def _county_batch(world: World) -> Batch:
    b = batch_create(actor=world.grace, org_unit=world.county, title="威远县第一批", positions=[world.county_position])
    nomination_add(actor=world.grace, batch=b, cadre=world.county_cadre, position=world.county_position)
    return b


def _refused(answer: tuple[int, dict], status: int = 403, code: str = "forbidden") -> None:
    got, body = answer
    assert got == status, body
    assert set(body["error"]) == {"code", "message", "extra"} and body["error"]["code"] == code, body


def test_erin_lists_city_and_county_warnings_by_filter_and_grace_sees_only_her_county(world: World, batch: Batch):
    county = _county_batch(world)
    block = _warn(world.city, "W24", "block", "任职年限不足", batch=batch)
    warn = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)
    county_warning = _warn(world.county, "W10", "warn", "县级公示期不足", batch=county)
    erin = ApiClient(world.erin)

    status, body = erin.get("/warnings")
    assert status == 200 and body["count"] == 3
    assert {w["id"] for w in body["items"]} == {block.pk, warn.pk, county_warning.pk}
    first = next(w for w in body["items"] if w["id"] == warn.pk)
    assert first["unit_code"] == "J001" and first["batch_number"] == batch.number and first["status"] == "open"
    assert [w["id"] for w in erin.get("/warnings", unit="J002")[1]["items"]] == [county_warning.pk]
    assert [w["id"] for w in erin.get("/warnings", severity="block")[1]["items"]] == [block.pk]
    assert {w["id"] for w in erin.get("/warnings", rule="W10")[1]["items"]} == {warn.pk, county_warning.pk}
    assert erin.get("/warnings", batch_id=county.pk)[1]["count"] == 1
    assert erin.get("/warnings", status="closed")[1]["count"] == 0
    assert erin.get("/warnings", status="open", page_size=2)[1]["count"] == 3
    assert erin.get("/warnings", severity="loud")[0] == 422

    status, body = ApiClient(world.grace).get("/warnings")  # 干部科长 of the county: her own unit only
    assert status == 200 and [w["id"] for w in body["items"]] == [county_warning.pk]
    _refused(ApiClient(world.alice).get("/warnings"))  # a clerk has no dashboard


def test_a_warning_is_read_with_its_history_by_those_who_see_the_unit_only(world: World, batch: Batch):
    warning = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)

    status, body = ApiClient(world.erin).get(f"/warnings/{warning.pk}")

    assert status == 200 and body["rule_code"] == "W10" and body["basis"] == "《条例》"
    assert body["explainable"] is True and body["closed_by"] is None
    assert [e["action"] for e in body["history"]] == ["warning.raise"]
    status, clerk_view = ApiClient(world.alice).get(f"/warnings/{warning.pk}")  # the clerk may read, not explain
    assert status == 200 and clerk_view["explainable"] is False
    _refused(ApiClient(world.grace).get(f"/warnings/{warning.pk}"))
    _refused(ApiClient(world.sam).get(f"/warnings/{warning.pk}"))  # 系统管理员 sees no selection work
    _refused(ApiClient(world.erin).get("/warnings/999999"), 404, "not_found")


def test_erin_closes_a_warning_with_a_signed_explanation_and_refusals_change_nothing(world: World, batch: Batch):
    warning = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)
    block = _warn(world.city, "W24", "block", "任职年限不足", batch=batch)
    text = {"explanation": "公示期遇国庆假期，已按规定顺延。", "pin": SIGNING_PIN}

    _refused(
        ApiClient(world.erin, scopes=("read", "write")).post(f"/warnings/{warning.pk}/explain", text), code="scope"
    )
    _refused(ApiClient(world.alice).post(f"/warnings/{warning.pk}/explain", text))
    _refused(ApiClient(world.grace).post(f"/warnings/{warning.pk}/explain", text))
    erin = ApiClient(world.erin)
    _refused(erin.post(f"/warnings/{warning.pk}/explain", {**text, "pin": "000000"}), 400, "wrong_pin")
    _refused(erin.post(f"/warnings/{block.pk}/explain", text), 400, "block_not_explainable")
    _refused(erin.post(f"/warnings/{warning.pk}/explain", {**text, "explanation": "短"}), 422, "validation")
    warning.refresh_from_db()
    assert warning.status == WarningStatus.OPEN and not Event.objects.filter(action="warning.explain").exists()

    status, body = erin.post(f"/warnings/{warning.pk}/explain", text)

    assert status == 200 and body["status"] == "explained" and body["explainable"] is False
    assert body["closed_by"] == world.erin.get_full_name() and body["closing_note"] == text["explanation"]
    warning.refresh_from_db()
    assert warning.status == WarningStatus.EXPLAINED and warning.closed_by == world.erin
    event = Event.objects.get(action="warning.explain", subject_type="earlywarning", subject_id=str(warning.pk))
    assert event.actor == world.erin and event.hash == warning.closing_event_hash
    assert Signature.objects.filter(event=event, signer="erin", role="approver").exists()
    assert body["history"][-1]["signatures"][0]["signer"] == "erin"
    _refused(erin.post(f"/warnings/{warning.pk}/explain", text), 400, "closed")


TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
START, END = dt.date(2030, 6, 3), dt.date(2030, 6, 10)
DURING = dt.datetime(2030, 6, 5, 10, 0, tzinfo=TZ)
ID_NUMBER = "511002198205120015"
REASON = "张伟同志基层工作经历不满两年，因工作特殊需要，经上级组织部门同意破格提拔。"


def test_the_public_notices_need_no_token_and_show_only_the_public_fields(world: World, batch: Batch):
    qian = cadre_create(actor=None, org_unit=world.city, data=cadre_data("钱进", id_number=ID_NUMBER))
    nomination_add(actor=world.alice, batch=batch, cadre=qian, position=world.positions[1])
    # Setup as in test_public_notice: the current D05 and R01 records the public pages read.
    notice = {"start_date": START.isoformat(), "end_date": END.isoformat(), "exception_reason": REASON}
    for step_id, status, data in (
        ("D05", RecordStatus.COMPLETED, {"matter": "破格提拔", "matter_detail": "事由说明", "reply_opinion": "同意"}),
        ("R01", RecordStatus.IN_PROGRESS, notice),
    ):
        StepRecord.objects.create(
            batch=batch, step_id=step_id, status=status, data=data, started_by=world.alice, started_at=timezone.now()
        )
    client, slug = Client(), public.notice_slug(batch.number)

    with time_machine.travel(DURING, tick=False):
        listed = client.get("/api/v1/public/notices")
        shown = client.get(f"/api/v1/public/notices/{slug}")
        missing = client.get("/api/v1/public/notices/" + "0" * 24)
    with time_machine.travel(dt.datetime(2030, 6, 11, 10, 0, tzinfo=TZ), tick=False):
        after = client.get(f"/api/v1/public/notices/{slug}")

    assert listed.status_code == 200 and listed["X-Robots-Tag"].startswith("noindex")
    [item] = listed.json()["items"]
    assert item == {
        "slug": slug,
        "unit_name": "中共内江市委组织部",
        "start": "2030-06-03",
        "end": "2030-06-10",
        "names": ["张伟", "刘洋", "杨帆", "钱进"],
    }
    assert shown.status_code == 200
    body = shown.json()
    assert set(body) == {"slug", "unit_name", "start", "end", "people", "exceptions"}
    assert body["people"][0] == {
        "name": "张伟",
        "current_post": "内江市财政局预算科科长",
        "proposed_post": "内江市发展和改革委员会副主任",
    }
    assert body["exceptions"] == [f"破格提拔：{REASON}"]
    text = json.dumps(body, ensure_ascii=False)
    for secret in (ID_NUMBER, "1982", "某某", "妻子", batch.number, "nomination", "id"):
        assert secret not in text
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert after.status_code == 404
    assert client.get("/api/v1/warnings").status_code == 401  # the rest still needs a token


def test_a_county_supervisor_sees_the_county_warnings_but_not_the_city_ones(world: World, batch: Batch):
    victor = user_create(
        actor=None, org_unit=world.county, username="victor", full_name="何监督", title="", password=PASSWORD
    )
    role_grant(actor=None, user=victor, org_unit=world.county, role=Role.SUPERVISION)
    city = _warn(world.city, "W10", "warn", "公示期不足", batch=batch)
    county = _warn(world.county, "W10", "warn", "县级公示期不足", batch=_county_batch(world))
    api = ApiClient(victor)

    status, body = api.get("/warnings")

    assert status == 200 and [w["id"] for w in body["items"]] == [county.pk]
    assert api.get("/warnings", unit="J001")[1]["count"] == 0
    _refused(api.get(f"/warnings/{city.pk}"))
    _refused(api.post(f"/warnings/{city.pk}/explain", {"explanation": "越级说明情况。", "pin": SIGNING_PIN}))
