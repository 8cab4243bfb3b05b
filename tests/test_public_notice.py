"""The public 任前公示 page (no login), its feedback form and the bot/flood checks, and the supervisors'
queue with the signed verification."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jishi.accounts.services import role_grant, user_create
from jishi.cadres.services import cadre_create
from jishi.core.roles import Role
from jishi.core.testing import PASSWORD, SIGNING_PIN, World, cadre_data
from jishi.ledger.models import Event, Signature
from jishi.selection.models import Batch, RecordStatus, StepRecord
from jishi.selection.services import batch_create, nomination_add, nomination_drop, step_save, step_start
from jishi.selection.walk import walk
from jishi.supervision import public, ratelimit, services
from jishi.supervision.models import FeedbackStatus, Notification, PublicFeedback
from tests.batches import make_batch, walked_once

pytestmark = pytest.mark.urls("tests.urls_public_notice")

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
START, END = dt.date(2030, 6, 3), dt.date(2030, 6, 10)
DURING = dt.datetime(2030, 6, 5, 10, 0, tzinfo=TZ)
ID_NUMBER = "511002198205120015"
EXCEPTION_REASON = "张伟同志基层工作经历不满两年，因工作特殊需要，经上级组织部门同意破格提拔。"
REPORT = "该同志在任财政局预算科科长期间，多次接受服务对象宴请。"


def _qian(world: World, batch: Batch) -> None:
    qian = cadre_create(actor=None, org_unit=world.city, data=cadre_data("钱进", id_number=ID_NUMBER))
    nomination_add(actor=world.alice, batch=batch, cadre=qian, position=world.positions[1])


NOTICE_DATA = {
    "start_date": START.isoformat(),
    "end_date": END.isoformat(),
    "notice_form": "网站或内网",
    "exception_reason": EXCEPTION_REASON,
}


@pytest.fixture
def walked_batch(world: World) -> Batch:
    """The city batch plus 钱进 (with an ID number), walked through the services to 任前公示 (slow: walked once)."""

    def build() -> Batch:
        batch = make_batch(world)
        _qian(world, batch)
        walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "R01")
        record = step_start(actor=world.alice, batch=batch, step_id="R01")
        step_save(actor=world.alice, record=record, data=NOTICE_DATA)
        return batch

    return walked_once("public notice", build)


@pytest.fixture
def notice_batch(world: World, batch: Batch) -> Batch:
    """The same state as ``walked_batch`` for what the public pages read — the current R01 and D05
    records — written directly as test setup, so that each form test does not walk forty steps."""
    _qian(world, batch)
    for step_id, status, data in (
        ("D05", RecordStatus.COMPLETED, {"matter": "破格提拔", "matter_detail": "事由说明", "reply_opinion": "同意"}),
        ("R01", RecordStatus.IN_PROGRESS, NOTICE_DATA),
    ):
        StepRecord.objects.create(
            batch=batch, step_id=step_id, status=status, data=data, started_by=world.alice, started_at=timezone.now()
        )
    return batch


def slug(batch: Batch) -> str:
    return public.notice_slug(batch.number)


def notice_url(batch: Batch) -> str:
    return reverse("public_notice", args=[slug(batch)])


def person_key(batch: Batch, name: str) -> str:
    return public.person_key(batch.nominations.get(cadre__name=name).number)


def post_feedback(client: Client, batch: Batch, traveller, **overrides: str):
    """Load the page (token issued), wait five seconds like a person, then post the form."""
    addr = overrides.pop("addr", "203.0.113.7")
    token = page_token(client.get(notice_url(batch)).content.decode())
    traveller.shift(5)
    data = {"person": person_key(batch, "张伟"), "content": REPORT, "contact": "13800000000", "token": token}
    data.update(overrides)
    return client.post(notice_url(batch), data, REMOTE_ADDR=addr)


def page_token(body: str) -> str:
    """The signed timestamp token the page issued with its form."""
    match = re.search(r'name="token" value="([^"]+)"', body)
    assert match is not None
    return match[1]


def staff(user) -> Client:
    client = Client()
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


# The notice ----------------------------------------------------------------------------------------------


def test_the_notice_shows_exactly_the_allowed_fields(world: World, walked_batch: Batch):
    notice_batch = walked_batch
    other = batch_create(
        actor=world.grace, org_unit=world.county, title="县管干部调整", positions=[world.county_position], reason="空缺"
    )
    nomination_add(actor=world.grace, batch=other, cadre=world.county_cadre, position=world.county_position)
    with time_machine.travel(DURING, tick=False):
        response = Client().get(notice_url(notice_batch))
    assert response.status_code == 200
    assert response["X-Robots-Tag"].startswith("noindex")
    body = response.content.decode()
    assert '<meta name="robots" content="noindex' in body
    people = body.split('id="people"')[1].split("</table>")[0]
    for name in ("张伟", "刘洋", "杨帆", "钱进"):
        assert name in people
    assert "内江市财政局预算科科长" in people and "内江市发展和改革委员会副主任" in people
    assert "内江市财政局副局长" in people
    assert "2030年6月3日至2030年6月10日" in body
    assert "中共内江市委组织部" in body and "可通过本页提交反映，也可来电来信" in body
    # walk() records D05 as 破格提拔 approved by the higher level; the notice's own reason is published
    assert f"破格提拔：{EXCEPTION_REASON}" in body
    for secret in (
        ID_NUMBER,
        "0015",
        "1982",
        "某某",
        "妻子",
        "第一中学",
        "中共党员",
        "alice",
        "李晓红",
        "erin",
        notice_batch.number,
        other.number,
        "孙浩",
        "2026年第三批",
        "/batches/",
        "/nominations/",
        "/cadres/",
        "/supervision/",
        "退出登录",
    ):
        assert secret not in body, secret
    for nomination in notice_batch.nominations.all():
        assert nomination.number not in body


def test_the_list_shows_current_notices_only(world: World, notice_batch: Batch):
    with time_machine.travel(DURING, tick=False):
        during = Client().get(reverse("public_notice_list")).content.decode()
    with time_machine.travel(dt.datetime(2030, 6, 11, 9, 0, tzinfo=TZ), tick=False):
        after = Client().get(reverse("public_notice_list")).content.decode()
    assert notice_url(notice_batch) in during and "张伟" in during
    assert notice_url(notice_batch) not in after and "目前没有正在公示" in after


@pytest.mark.parametrize("moment", [dt.datetime(2030, 6, 2, 23, 0), dt.datetime(2030, 6, 11, 0, 30)])
def test_outside_the_period_the_notice_is_a_friendly_404(notice_batch: Batch, moment: dt.datetime):
    with time_machine.travel(moment.replace(tzinfo=TZ), tick=False):
        response = Client().get(notice_url(notice_batch))
    assert response.status_code == 404
    assert "公示不存在或已结束" in response.content.decode() and "张伟" not in response.content.decode()
    assert response["X-Robots-Tag"].startswith("noindex")


def test_on_the_last_day_the_notice_is_still_public(notice_batch: Batch):
    with time_machine.travel(dt.datetime(2030, 6, 10, 23, 30, tzinfo=TZ), tick=False):
        assert Client().get(notice_url(notice_batch)).status_code == 200


def test_an_unknown_slug_is_a_404(notice_batch: Batch):
    with time_machine.travel(DURING, tick=False):
        for guess in ("0" * 24, slug(notice_batch)[:-1] + "x", str(notice_batch.pk), notice_batch.number):
            assert Client().get(reverse("public_notice", args=[guess])).status_code == 404


def test_a_dropped_person_leaves_the_notice(world: World, notice_batch: Batch):
    nomination = notice_batch.nominations.get(cadre__name="刘洋")
    nomination_drop(actor=world.alice, nomination=nomination, reason="本人申请退出")
    with time_machine.travel(DURING, tick=False):
        body = Client().get(notice_url(notice_batch)).content.decode()
    assert "张伟" in body and "刘洋" not in body


def test_without_a_reason_on_the_notice_the_prior_report_gives_it(world: World, walked_batch: Batch):
    notice_batch = walked_batch
    record = notice_batch.records.get(step_id="R01")
    step_save(actor=world.alice, record=record, data={**record.data, "exception_reason": ""})
    with time_machine.travel(DURING, tick=False):
        body = Client().get(notice_url(notice_batch)).content.decode()
    assert "破格提拔：事由说明：按规定办理，情况属实。" in body and EXCEPTION_REASON not in body


def test_a_batch_without_an_exceptional_promotion_shows_no_reasons(world: World, notice_batch: Batch):
    report = notice_batch.records.get(step_id="D05")
    report.data = {**report.data, "matter": "超职数配备"}
    report.save(update_fields=["data"])  # test setup: another D05 outcome without walking a second batch
    with time_machine.travel(DURING, tick=False):
        body = Client().get(notice_url(notice_batch)).content.decode()
    assert "破格提拔" not in body


# Feedback ------------------------------------------------------------------------------------------------


def test_feedback_is_saved_with_its_ledger_event_and_erin_is_notified(world: World, notice_batch: Batch):
    with time_machine.travel(DURING, tick=False) as traveller:
        response = post_feedback(Client(), notice_batch, traveller)
    assert response.status_code == 302 and response["Location"] == reverse("public_feedback_received")
    feedback = PublicFeedback.objects.get()
    assert feedback.nomination.cadre.name == "张伟" and feedback.content == REPORT
    assert feedback.contact_encrypted and "13800000000" not in feedback.contact_encrypted
    assert feedback.source_hash == services.source_hash("203.0.113.7")
    event = Event.objects.get(action="feedback.receive")
    assert event.subject_id == str(feedback.pk) and event.chain.fonds == "J001"
    note = Notification.objects.get(user=world.erin, title__startswith="公示期间收到反映")
    assert "张伟" in note.title and note.url == f"/supervision/feedback/{feedback.pk}/"
    received = Client().get(reverse("public_feedback_received")).content.decode()
    main = received.split("<main")[1].split("</main>")[0]
    text = re.sub(r"<[^>]+>", "", main)
    assert "已收到" in text and "认真核查" in text and not re.search(r"\d|编号", text)  # nothing that counts


def test_the_form_needs_a_csrf_token(notice_batch: Batch):
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(DURING, tick=False) as traveller:
        page = client.get(notice_url(notice_batch))
        assert "csrftoken" in page.cookies
        page_token(page.content.decode())
        traveller.shift(5)
        refused = client.post(notice_url(notice_batch), {"person": person_key(notice_batch, "张伟"), "content": REPORT})
    assert refused.status_code == 403
    assert not PublicFeedback.objects.exists()


def nothing_saved() -> bool:
    return not PublicFeedback.objects.exists() and not Event.objects.filter(action="feedback.receive").exists()


def test_a_filled_honeypot_is_refused_with_a_generic_message(notice_batch: Batch):
    with time_machine.travel(DURING, tick=False) as traveller:
        response = post_feedback(Client(), notice_batch, traveller, remark="http://spam.example")
    assert response.status_code == 400
    body = response.content.decode()
    assert "提交未成功" in body and "请勿填写" in body  # the label is in the hidden block only
    assert "honeypot" not in body and REPORT in body
    assert nothing_saved()


def test_a_post_right_after_loading_the_page_is_refused(notice_batch: Batch):
    client = Client()
    with time_machine.travel(DURING, tick=False) as traveller:
        token = page_token(client.get(notice_url(notice_batch)).content.decode())
        traveller.shift(1)
        response = client.post(
            notice_url(notice_batch),
            {"person": person_key(notice_batch, "张伟"), "content": REPORT, "token": token},
        )
    assert response.status_code == 400 and "提交过快" in response.content.decode()
    assert REPORT in response.content.decode()
    assert nothing_saved()


def test_a_stale_page_must_be_reloaded_and_keeps_the_typed_text(notice_batch: Batch):
    client = Client()
    with time_machine.travel(DURING, tick=False) as traveller:
        token = page_token(client.get(notice_url(notice_batch)).content.decode())
        traveller.shift(2 * 60 * 60 + 5)
        response = client.post(
            notice_url(notice_batch),
            {"person": person_key(notice_batch, "张伟"), "content": REPORT, "token": token},
        )
    body = response.content.decode()
    assert response.status_code == 400 and "请刷新页面" in body and REPORT in body
    assert page_token(body) != token  # a fresh token to try again
    assert nothing_saved()


def test_a_missing_or_forged_token_is_refused(notice_batch: Batch):
    with time_machine.travel(DURING, tick=False) as traveller:
        for token in ("", "abc", public.notice_slug("other") + ":1:x"):
            response = post_feedback(Client(), notice_batch, traveller, token=token)
            assert response.status_code == 400 and "提交未成功" in response.content.decode()
    assert nothing_saved()


def test_a_token_from_another_notice_is_refused(world: World, notice_batch: Batch):
    from jishi.supervision.forms_public import feedback_token

    with time_machine.travel(DURING, tick=False) as traveller:
        foreign = feedback_token(public.notice_slug("J002-2030-001"))
        traveller.shift(10)
        response = post_feedback(Client(), notice_batch, traveller, token=foreign)
    assert response.status_code == 400 and nothing_saved()


def test_a_person_not_on_the_notice_cannot_be_chosen(world: World, notice_batch: Batch):
    with time_machine.travel(DURING, tick=False) as traveller:
        response = post_feedback(Client(), notice_batch, traveller, person=public.person_key("J002-X-1"))
    assert response.status_code == 400 and REPORT in response.content.decode()
    assert nothing_saved()


def test_a_too_short_report_is_refused_inline(notice_batch: Batch):
    with time_machine.travel(DURING, tick=False) as traveller:
        response = post_feedback(Client(), notice_batch, traveller, content="有问题")
    assert response.status_code == 400 and "有问题" in response.content.decode()
    assert nothing_saved()


def test_a_sixth_report_from_one_source_within_an_hour_is_refused(notice_batch: Batch):
    client = Client()
    with time_machine.travel(DURING, tick=False) as traveller:
        for i in range(ratelimit.SOURCE_LIMIT):
            response = post_feedback(client, notice_batch, traveller, content=f"{REPORT}（第{i + 1}件）")
            assert response.status_code == 302
        response = post_feedback(client, notice_batch, traveller, content=f"{REPORT}（第六件）")
        assert response.status_code == 429
        assert "提交过于频繁，请稍后再试" in response.content.decode() and "第六件" in response.content.decode()
        assert PublicFeedback.objects.count() == ratelimit.SOURCE_LIMIT
        other = post_feedback(client, notice_batch, traveller, content=f"{REPORT}（别处）", addr="198.51.100.9")
        assert other.status_code == 302
        traveller.shift(60 * 60)
        later = post_feedback(client, notice_batch, traveller, content=f"{REPORT}（一小时后）")
        assert later.status_code == 302
    assert Event.objects.filter(action="feedback.receive").count() == ratelimit.SOURCE_LIMIT + 2


def test_a_notice_takes_at_most_fifty_reports_an_hour(world: World, notice_batch: Batch, monkeypatch):
    monkeypatch.setattr(ratelimit, "NOTICE_LIMIT", 3)
    with time_machine.travel(DURING, tick=False) as traveller:
        for i in range(3):
            addr = f"198.51.100.{i + 1}"
            assert (
                post_feedback(Client(), notice_batch, traveller, content=f"{REPORT}{i}", addr=addr).status_code == 302
            )
        response = post_feedback(Client(), notice_batch, traveller, content=f"{REPORT}再", addr="198.51.100.99")
    assert response.status_code == 429 and PublicFeedback.objects.count() == 3


def test_the_same_report_from_the_same_source_within_a_day_is_a_duplicate(notice_batch: Batch):
    with time_machine.travel(DURING, tick=False) as traveller:
        assert post_feedback(Client(), notice_batch, traveller).status_code == 302
        traveller.shift(2 * 60 * 60)
        again = post_feedback(Client(), notice_batch, traveller, content=f"  {REPORT}  ")
        assert again.status_code == 400 and "请勿重复提交" in again.content.decode()
        assert PublicFeedback.objects.count() == 1
        traveller.shift(24 * 60 * 60)
        assert post_feedback(Client(), notice_batch, traveller).status_code == 302
    assert PublicFeedback.objects.count() == 2


# The supervisors' queue ----------------------------------------------------------------------------------


@pytest.fixture
def feedback(notice_batch: Batch) -> PublicFeedback:
    nomination = notice_batch.nominations.get(cadre__name="张伟")
    return services.feedback_submit(nomination=nomination, content=REPORT, contact="李先生 13800000000", source="x")


def test_erin_sees_the_queue_with_the_open_report_first(world: World, feedback: PublicFeedback):
    older = services.feedback_submit(
        nomination=feedback.nomination, content="另一件已经核查的反映内容。", contact="", source="y"
    )
    services.feedback_verify(
        actor=world.erin, feedback=older, verification="经核查不属实。", affects_appointment=False, pin=SIGNING_PIN
    )
    body = staff(world.erin).get(reverse("feedback_queue")).content.decode()
    table = body.split('id="feedback-queue"')[1]
    assert table.index(reverse("feedback_detail", args=[feedback.pk])) < table.index(
        reverse("feedback_detail", args=[older.pk])
    )
    assert "待核查" in table and "已核查" in table


def test_dave_and_carol_see_the_queue_too(world: World, feedback: PublicFeedback):
    for user in (world.dave, world.carol):
        assert staff(user).get(reverse("feedback_detail", args=[feedback.pk])).status_code == 200


@pytest.mark.parametrize("username", ["grace", "alice", "oscar"])
def test_the_queue_is_refused_to_others(world: World, feedback: PublicFeedback, username: str):
    client = staff(world.users[username])
    assert client.get(reverse("feedback_queue")).status_code == 403
    assert client.get(reverse("feedback_detail", args=[feedback.pk])).status_code == 403


def test_a_county_supervisor_cannot_see_city_feedback(world: World, feedback: PublicFeedback):
    ivy = user_create(
        actor=None, org_unit=world.county, username="ivy", full_name="县监督", title="", password=PASSWORD
    )
    role_grant(actor=None, user=ivy, org_unit=world.county, role=Role.SUPERVISION)
    client = staff(ivy)
    assert REPORT not in client.get(reverse("feedback_queue")).content.decode()
    assert client.get(reverse("feedback_detail", args=[feedback.pk])).status_code == 403


def test_the_detail_shows_the_decrypted_contact_and_the_nomination(world: World, feedback: PublicFeedback):
    body = staff(world.erin).get(reverse("feedback_detail", args=[feedback.pk])).content.decode()
    assert "李先生 13800000000" in body and REPORT in body
    assert reverse("nomination_detail", args=[feedback.nomination.pk]) in body
    assert "签名记录核查结论" in body


def test_carol_sees_the_report_but_gets_no_verification_form(world: World, feedback: PublicFeedback):
    body = staff(world.carol).get(reverse("feedback_detail", args=[feedback.pk])).content.decode()
    assert REPORT in body and 'name="pin"' not in body


def test_erin_verifies_on_the_page_with_a_signed_event(world: World, feedback: PublicFeedback):
    client = staff(world.erin)
    url = reverse("feedback_verify", args=[feedback.pk])
    wrong = client.post(url, {"verification": "经核查，反映不属实。", "affects_appointment": "0", "pin": "000000"})
    assert wrong.status_code == 400 and "经核查，反映不属实。" in wrong.content.decode()
    assert not Event.objects.filter(action="feedback.verify").exists()
    missing = client.post(url, {"verification": "", "affects_appointment": "0", "pin": SIGNING_PIN})
    assert missing.status_code == 400 and not Event.objects.filter(action="feedback.verify").exists()
    done = client.post(url, {"verification": "经核查，反映不属实。", "affects_appointment": "0", "pin": SIGNING_PIN})
    assert done.status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == FeedbackStatus.VERIFIED and feedback.affects_appointment is False
    assert feedback.verified_by == world.erin
    event = Event.objects.get(action="feedback.verify")
    assert Signature.objects.filter(event=event, signer="erin", role="approver").exists()
    page = client.get(reverse("feedback_detail", args=[feedback.pk])).content.decode()
    assert "经核查，反映不属实。" in page and "不影响任职" in page and 'name="pin"' not in page


def test_carol_cannot_verify_by_posting(world: World, feedback: PublicFeedback):
    response = staff(world.carol).post(
        reverse("feedback_verify", args=[feedback.pk]),
        {"verification": "经核查，反映不属实。", "affects_appointment": "0", "pin": SIGNING_PIN},
    )
    assert response.status_code == 403 and not Event.objects.filter(action="feedback.verify").exists()


def test_a_corrected_notice_period_is_what_counts(world: World, notice_batch: Batch):
    first = notice_batch.records.get(step_id="R01")
    StepRecord.objects.create(  # test setup: a correction moved the period to July
        batch=notice_batch,
        step_id="R01",
        status=RecordStatus.COMPLETED,
        data={**NOTICE_DATA, "start_date": "2030-07-01", "end_date": "2030-07-08"},
        started_by=world.bob,
        started_at=timezone.now(),
        corrects=first,
        correction_reason="公示日期录入有误",
    )
    with time_machine.travel(DURING, tick=False):
        assert Client().get(notice_url(notice_batch)).status_code == 404
        assert public.notices_current() == []
    with time_machine.travel(dt.datetime(2030, 7, 2, 9, 0, tzinfo=TZ), tick=False):
        assert Client().get(notice_url(notice_batch)).status_code == 200
