"""责任倒查: the nomination, staff and rule-breach traces, who may see them, and their logged exports."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from jishi.accounts.models import User
from jishi.accounts.services import role_grant, user_create
from jishi.core.roles import Role
from jishi.core.testing import PASSWORD, SIGNING_PIN, World
from jishi.ledger.models import Event
from jishi.selection import services
from jishi.selection.models import Batch, Nomination, StepRecord
from jishi.selection.services import batch_create
from jishi.selection.walk import sample_values, walk_step
from jishi.supervision import trace
from jishi.supervision.models import EarlyWarning
from jishi.supervision.rules import Finding
from jishi.supervision.services import warning_raise, warning_resolve

pytestmark = pytest.mark.urls("tests.urls_dashboard")

TZ = dt.timezone(dt.timedelta(hours=8))
SCAN = b"%PDF-1.7 scanned proposal"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _user(world: World, username: str, name: str, grants: list[tuple[object, Role]]) -> User:
    user = user_create(actor=None, org_unit=world.city, username=username, full_name=name, title="", password=PASSWORD)
    for unit, role in grants:
        role_grant(actor=None, user=user, org_unit=unit, role=role)
    return user


def _walk(world: World, batch: Batch, step_id: str, nomination: Nomination | None = None) -> StepRecord:
    return walk_step(
        batch=batch, step_id=step_id, nomination=nomination, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN
    )


def _d03_with_a_scan(world: World, batch: Batch) -> StepRecord:
    """D03 with a scanned file: started by alice, confirmed by alice, bob and carol, completed."""
    definition = batch.procedure.definition
    record = services.step_start(actor=world.alice, batch=batch, step_id="D03")
    record = services.step_save(
        actor=world.alice, record=record, data=sample_values(definition.step("D03"), dt.date(2026, 8, 1))
    )
    services.material_register(
        actor=world.alice,
        record=record,
        item_id="I03",
        title="调整建议方案",
        upload=SimpleUploadedFile("方案.pdf", SCAN),
    )
    record.refresh_from_db()
    for user, role in ((world.alice, "clerk"), (world.bob, "section_head"), (world.carol, "dept_leader")):
        services.step_confirm(actor=user, record=record, role=role, pin=SIGNING_PIN)
    return services.step_complete(actor=world.alice, record=record)


# Nomination trace ------------------------------------------------------------------------------------


def test_a_nomination_trace_lists_confirmations_with_signatures_in_order_and_material_hashes(
    world: World, batch: Batch
):
    zhang, liu = batch.nominations.order_by("id")[:2]
    _walk(world, batch, "D01")
    _walk(world, batch, "D02")
    _d03_with_a_scan(world, batch)

    rows = trace.nomination_trace(zhang)

    actions = [r.action for r in rows]
    assert actions[0] == "batch.create" and "nomination.add" in actions
    d03 = [r for r in rows if r.subject.startswith("D03")]
    assert [r.action for r in d03] == [
        "step.start",
        "step.save",
        "material.register",
        "step.confirm",
        "step.confirm",
        "step.confirm",
        "step.complete",
    ]
    confirms = [r for r in d03 if r.action == "step.confirm"]
    assert [(s.signer, s.signer_name, s.role_label) for r in confirms for s in r.signatures] == [
        ("alice", "李晓红", "经办人"),
        ("bob", "王建国", "干部科长"),
        ("carol", "陈志远", "部领导"),
    ]
    assert all(r.label == "责任人签字确认" for r in confirms)
    digest = hashlib.sha256(SCAN).hexdigest()
    register = next(r for r in d03 if r.action == "material.register")
    assert register.evidence == [digest] and not register.signatures
    assert all(r.evidence == [digest] for r in confirms)
    assert [r.at for r in rows] == sorted(r.at for r in rows)
    # The other person's own nomination is not part of 张伟's trace.
    assert not any(liu.number in r.detail or r.subject.startswith(liu.cadre.name) for r in rows)

    body = _client(world.dave).get(reverse("trace_nomination", args=[zhang.pk])).content.decode()
    assert body.index("✍ 李晓红（经办人）") < body.index("✍ 王建国（干部科长）") < body.index("✍ 陈志远（部领导）")
    assert digest[:16] in body and reverse("step_batch", args=[batch.pk, "D03"]) in body
    assert reverse("trace_user", args=[world.bob.pk]) in body


def test_the_nomination_trace_keeps_its_own_steps_and_leaves_out_the_others(world: World, batch: Batch):
    zhang, liu = batch.nominations.order_by("id")[:2]
    services.nomination_drop(actor=world.alice, nomination=liu, reason="本人申请退出")
    rows = trace.nomination_trace(zhang)
    assert "nomination.drop" not in [r.action for r in rows]
    assert "nomination.drop" in [r.action for r in trace.nomination_trace(liu)]
    assert sum(1 for r in rows if r.action == "nomination.add") == 1


@pytest.mark.parametrize("name", ["alice", "bob", "frank", "sam", "oscar", "grace"])
def test_people_without_a_trace_role_are_refused(world: World, batch: Batch, name: str):
    nomination = batch.nominations.first()
    assert nomination is not None
    client = _client(world.users[name])
    assert client.get(reverse("trace_nomination", args=[nomination.pk])).status_code == 403
    assert client.get(reverse("trace_nomination_export", args=[nomination.pk, "csv"])).status_code == 403
    assert client.get(reverse("trace_user", args=[world.alice.pk])).status_code == 403
    assert not Event.objects.filter(action="trace.export").exists()


def test_a_county_supervisor_cannot_trace_a_city_nomination(world: World, batch: Batch):
    victor = _user(world, "victor", "何监督", [(world.county, Role.SUPERVISION)])
    nomination = batch.nominations.first()
    assert nomination is not None
    client = _client(victor)
    assert client.get(reverse("trace_nomination", args=[nomination.pk])).status_code == 403
    assert client.get(reverse("trace_nomination_export", args=[nomination.pk, "xlsx"])).status_code == 403
    for name in ("carol", "dave", "erin"):  # 部领导, 纪检监察, 干部监督 of the city
        assert _client(world.users[name]).get(reverse("trace_nomination", args=[nomination.pk])).status_code == 200


# Staff trace -----------------------------------------------------------------------------------------


def test_the_staff_trace_shows_only_the_fonds_the_viewer_may_see(world: World):
    hank = _user(world, "hank", "韩双岗", [(world.city, Role.CLERK), (world.county, Role.CLERK)])
    city_batch = batch_create(actor=hank, org_unit=world.city, title="市级批次", positions=[world.positions[0]])
    county_batch = batch_create(actor=hank, org_unit=world.county, title="县级批次", positions=[world.county_position])
    victor = _user(world, "victor", "何监督", [(world.county, Role.SUPERVISION)])

    seen_by_city = trace.user_trace(hank, world.erin)
    seen_by_county = trace.user_trace(hank, victor)

    assert {(r.row.fonds, r.row.action) for r in seen_by_city if r.row.action == "batch.create"} == {
        ("J001", "batch.create"),
        ("J002", "batch.create"),
    }
    assert {r.row.fonds for r in seen_by_county} == {"J002"}
    body = _client(victor).get(reverse("trace_user", args=[hank.pk])).content.decode()
    assert county_batch.number in body and city_batch.number not in body


def test_the_staff_trace_includes_what_the_person_signed(world: World, batch: Batch):
    record = _walk(world, batch, "D01")
    rows = trace.user_trace(world.bob, world.dave)
    signed = [r for r in rows if r.signed_as]
    assert [(r.row.action, r.signed_as, r.row.subject) for r in signed] == [
        ("step.confirm", ["干部科长"], trace.step_label(record))
    ]
    assert all(r.row.fonds == "J001" for r in rows)


# Rule-breach trace -----------------------------------------------------------------------------------


def test_the_rule_breach_trace_names_the_records_confirmers_and_those_who_went_on(world: World, batch: Batch):
    with time_machine.travel(dt.datetime(2026, 11, 10, 9, 0, tzinfo=TZ), tick=False):
        record = _walk(world, batch, "D01")
    with time_machine.travel(dt.datetime(2026, 11, 11, 9, 0, tzinfo=TZ), tick=False):
        warning = warning_raise(
            finding=Finding(code="W05", severity="warn", message="听取意见范围不全", basis="《条例》第十八条"),
            org_unit=world.city,
            fingerprint=f"W05:{batch.pk}:D01",
            batch=batch,
            record=record,
            step_id="D01",
        )
        assert warning is not None
    with time_machine.travel(dt.datetime(2026, 11, 12, 9, 0, tzinfo=TZ), tick=False):
        _walk(world, batch, "D02")
    with time_machine.travel(dt.datetime(2026, 11, 13, 9, 0, tzinfo=TZ), tick=False):
        warning_resolve(warning=warning, note="已补充听取意见", actor=world.bob)
    with time_machine.travel(dt.datetime(2026, 11, 14, 9, 0, tzinfo=TZ), tick=False):
        _d03_with_a_scan(world, batch)  # after the warning ended: not among those who went on
        result = trace.warning_trace(EarlyWarning.objects.get(pk=warning.pk))

    assert [(i.person_name, i.role_label, i.what) for i in result.responsible] == [
        ("李晓红", "经办人", "开始办理"),
        ("李晓红", "经办人", "确认签字（第 2 次修订）"),
        ("王建国", "干部科长", "确认签字（第 2 次修订）"),
        ("李晓红", "经办人", "完成步骤"),
    ]
    later = [(i.person_name, i.what, i.subject.split()[0]) for i in result.later]
    assert later == [
        ("李晓红", "确认签字", "D02"),
        ("王建国", "确认签字", "D02"),
        ("李晓红", "完成步骤", "D02"),
    ]
    assert all(i.at == dt.datetime(2026, 11, 12, 9, 0, tzinfo=TZ) for i in result.later)
    assert result.closing is not None and result.closing.person_name == "王建国"
    assert result.closing.what == "已消除：已补充听取意见"

    body = _client(world.erin).get(reverse("trace_warning", args=[warning.pk])).content.decode()
    responsible = body[body.index('id="responsible"') : body.index('id="later"')]
    assert "王建国" in responsible and "确认签字（第 2 次修订）" in responsible
    assert "D03" not in body[body.index('id="later"') :]


def test_a_refused_start_without_a_record_still_has_a_trace(world: World, batch: Batch):
    warning = warning_raise(
        finding=Finding(code="W01", severity="block", message="越过程序"),
        org_unit=world.city,
        fingerprint="W01:x",
        batch=batch,
        step_id="T01",
    )
    assert warning is not None
    result = trace.warning_trace(warning)
    assert result.records == [] and result.responsible == [] and result.still_open
    assert _client(world.carol).get(reverse("trace_warning", args=[warning.pk])).status_code == 200


# Exports ---------------------------------------------------------------------------------------------


def test_exporting_a_nomination_trace_as_csv_writes_the_access_event_and_has_a_bom(world: World, batch: Batch):
    nomination = batch.nominations.first()
    assert nomination is not None
    _walk(world, batch, "D01")
    client = _client(world.dave)
    before = Event.objects.count()
    assert client.get(reverse("trace_nomination", args=[nomination.pk])).status_code == 200
    assert Event.objects.count() == before  # looking is not logged
    expected = trace.nomination_trace(nomination)

    response = client.get(reverse("trace_nomination_export", args=[nomination.pk, "csv"]))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "操作人", "动作"]
    assert len(rows) == len(expected) + 1
    confirm = next(r for r in rows if r[2] == "责任人签字确认")
    assert "王建国（干部科长）" in confirm[6] or "李晓红（经办人）" in confirm[6]
    event = Event.objects.get(action="trace.export")
    payload = json.loads(event.payload)
    assert event.actor == world.dave and event.chain.fonds == "J001"
    assert (event.subject_type, event.subject_id) == ("nomination", str(nomination.pk))
    assert payload == {
        "kind": "nomination",
        "subject": nomination.number,
        "rows": len(expected),
        "format": "csv",
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def test_exporting_a_warning_trace_as_excel_writes_the_access_event(world: World, batch: Batch):
    record = _walk(world, batch, "D01")
    warning = warning_raise(
        finding=Finding(code="W05", severity="warn", message='=HYPERLINK("x")', basis=""),
        org_unit=world.city,
        fingerprint="W05:excel",
        batch=batch,
        record=record,
        step_id="D01",
    )
    assert warning is not None

    response = _client(world.erin).get(reverse("trace_warning_export", args=[warning.pk, "xlsx"]))

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
    assert ["责任环节", "王建国", "干部科长"] in [v[:3] for v in values]
    payload = json.loads(Event.objects.get(action="trace.export").payload)
    assert payload["kind"] == "warning" and payload["format"] == "xlsx" and payload["rows"] == len(values)
    assert payload["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_a_staff_trace_export_is_recorded_in_the_exporters_own_unit(world: World, batch: Batch):
    victor = _user(world, "victor", "何监督", [(world.county, Role.SUPERVISION)])
    response = _client(victor).get(reverse("trace_user_export", args=[world.alice.pk, "csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1  # only the header: alice works in the city, which victor cannot see
    event = Event.objects.get(action="trace.export")
    assert event.chain.fonds == "J002" and (event.subject_type, event.subject_id) == ("user", str(world.alice.pk))
    assert json.loads(event.payload)["rows"] == 0


def test_an_unknown_export_format_is_not_found_and_not_logged(world: World, batch: Batch):
    nomination = batch.nominations.first()
    assert nomination is not None
    response = _client(world.dave).get(reverse("trace_nomination_export", args=[nomination.pk, "pdf"]))
    assert response.status_code == 404
    assert not Event.objects.filter(action="trace.export").exists()


def test_csv_cells_that_look_like_formulas_are_defused():
    from jishi.supervision.exports import render_csv

    table = trace.TraceTable(kind="user", title="t", subject="s", headers=["内容"], rows=[["=1+1"], ["正常"]])
    text = render_csv(table).decode("utf-8-sig")
    assert text.splitlines() == ["内容", "'=1+1", "正常"]
