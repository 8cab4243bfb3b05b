from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Event
from jishi.selection.models import Batch, VoteTally
from jishi.selection.walk import walk


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_are_in_simplified_chinese_even_for_an_english_browser(db):
    response = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert "登录" in response.content.decode() and response["Content-Language"] == "zh-hans"


def test_the_language_switch_turns_english_on(world: World):
    client = _client(world.alice)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("home"))
    assert response["Content-Language"] == "en"
    assert "My to-do list" in response.content.decode()


def test_anonymous_visitors_are_sent_to_login(db):
    response = Client().get(reverse("batch_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_clerks_todo_list_offers_the_first_step(world: World, batch: Batch):
    response = _client(world.alice).get(reverse("home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "D01 听取党委（党组）意见" in body and batch.number in body


def test_a_county_clerk_is_refused_a_city_batch(world: World, batch: Batch):
    client = _client(world.grace)
    assert client.get(reverse("batch_detail", args=[batch.pk])).status_code == 403
    assert client.get(reverse("step_batch", args=[batch.pk, "D01"])).status_code == 403
    response = client.post(reverse("step_start_batch", args=[batch.pk, "D01"]))
    assert response.status_code == 403 and not batch.records.exists()
    assert batch.number not in client.get(reverse("batch_list")).content.decode()


def test_a_city_supervisor_sees_county_work_but_cannot_act_on_it(world: World):
    from jishi.selection.services import batch_create

    county_batch = batch_create(
        actor=world.grace, org_unit=world.county, title="威远县第一批", positions=[world.county_position]
    )
    client = _client(world.erin)
    assert client.get(reverse("batch_detail", args=[county_batch.pk])).status_code == 200
    assert client.post(reverse("step_start_batch", args=[county_batch.pk, "D01"])).status_code == 403
    assert not county_batch.records.exists()


def test_missing_things_are_a_friendly_404(world: World):
    client = _client(world.alice)
    assert client.get("/batches/999999/").status_code == 404
    response = client.get("/batches/999999/steps/D01/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_an_unknown_step_id_is_a_clear_404(world: World, batch: Batch):
    response = _client(world.alice).get(reverse("step_batch", args=[batch.pk, "XX"]))
    assert response.status_code == 404 and "没有编号为“XX”的步骤" in response.content.decode()


def test_a_skipped_step_is_refused_on_the_page_and_recorded(world: World, batch: Batch):
    client = _client(world.alice)
    page = client.get(reverse("step_batch", args=[batch.pk, "D03"])).content.decode()
    assert "本步骤尚未开放" in page
    response = client.post(reverse("step_start_batch", args=[batch.pk, "D03"]))
    assert response.status_code == 400
    assert "不能越过程序" in response.content.decode()
    assert Event.objects.filter(action="step.refused").count() == 1
    assert not batch.records.exists()


def test_starting_an_available_step_opens_its_record(world: World, batch: Batch):
    response = _client(world.alice).post(reverse("step_start_batch", args=[batch.pk, "D01"]))
    assert response.status_code == 302
    assert batch.records.get(step_id="D01").started_by == world.alice


def test_a_bad_date_is_shown_on_the_form_and_nothing_is_saved(world: World, batch: Batch):
    client = _client(world.alice)
    client.post(reverse("step_start_batch", args=[batch.pk, "D01"]))
    record = batch.records.get(step_id="D01")
    field = next(f for f in batch.procedure.definition.step("D01").fields if f.type == "date")
    response = client.post(reverse("record_save", args=[record.pk]), {field.id: "2026-13-45"})
    body = response.content.decode()
    assert response.status_code == 400 and "请填写有效日期" in body and "2026-13-45" in body
    record.refresh_from_db()
    assert record.data == {} and record.revision == 0


def test_a_tally_with_more_present_than_due_is_refused(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "T04")
    client = _client(world.alice)
    client.post(reverse("step_start_batch", args=[batch.pk, "T04"]))
    record = batch.records.get(step_id="T04")
    data = {"due": "9", "present": "12", "valid_ballots": "9"}
    for n in batch.nominations.all():
        data.update({f"approve_{n.pk}": "abc", f"oppose_{n.pk}": "-1"})
    response = client.post(reverse("record_tally", args=[record.pk]), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "实到人数（12）不能多于应到人数（9）" in body
    assert "同意票必须是整数" in body and "不同意票不能是负数" in body
    assert not VoteTally.objects.filter(record=record).exists()


def test_posts_without_a_csrf_token_are_refused(world: World, batch: Batch):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    response = client.post(reverse("step_start_batch", args=[batch.pk, "D01"]))
    assert response.status_code == 403 and not batch.records.exists()


@pytest.mark.parametrize("name", ["home", "batch_list", "batch_create", "cadre_list", "procedure_list"])
def test_every_main_page_renders_for_the_clerk(world: World, batch: Batch, name: str):
    response = _client(world.alice).get(reverse(name))
    assert response.status_code == 200
    assert "李晓红" in response.content.decode()


def test_the_batch_page_draws_the_flow_map(world: World, batch: Batch):
    body = _client(world.alice).get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert body.count('data-step="D01"') == 1  # batch row only
    assert body.count('data-step="K04"') == 3  # one per nomination
    assert 'data-step="D01" data-state="available"' in body


def test_the_batch_list_query_count_does_not_grow_per_batch(world: World, batch: Batch, django_assert_max_num_queries):
    from jishi.selection.services import batch_create

    for i in range(5):
        batch_create(actor=world.alice, org_unit=world.city, title=f"批次{i}", positions=world.positions[:1])
    client = _client(world.alice)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("batch_list")).status_code == 200


def test_the_procedure_viewer_shows_the_counts(world: World):
    from jishi.procedures.models import ProcedureVersion

    version = ProcedureVersion.objects.get(code="standard")
    body = _client(world.alice).get(reverse("procedure_detail", args=[version.pk])).content.decode()
    for text in (
        "<strong>6</strong> 个环节",
        "<strong>44</strong> 个操作步骤",
        "<strong>36</strong> 个纪实项目",
        "<strong>61</strong> 条纪实要求",
    ):
        assert text in body


def test_the_identity_number_is_masked_and_hidden_from_roles_without_need(world: World):
    from jishi.cadres.services import cadre_create
    from jishi.core.testing import cadre_data

    cadre = cadre_create(actor=None, org_unit=world.city, data=cadre_data("钱进", id_number="511002198205120015"))
    assert "511002198205120015" not in cadre.id_number_encrypted
    clerk_page = _client(world.alice).get(reverse("cadre_detail", args=[cadre.pk])).content.decode()
    assert "511002********0015" in clerk_page and "511002198205120015" not in clerk_page
    archivist_page = _client(world.frank).get(reverse("cadre_detail", args=[cadre.pk])).content.decode()
    assert "无权查看" in archivist_page and "0015" not in archivist_page


def test_the_timeline_shows_who_completed_batch_steps_too(world: World, batch: Batch):
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D03")
    nomination = batch.nominations.first()
    assert nomination is not None
    body = _client(world.alice).get(reverse("nomination_detail", args=[nomination.pk])).content.decode()
    d01_row = body.split("D01 ")[1].split("</tr>")[0]
    assert "王建国" in d01_row and "李晓红" in d01_row


def test_the_cadre_search_filters_the_table_that_htmx_swaps(world: World):
    client = _client(world.alice)
    body = client.get(reverse("cadre_list"), {"q": "刘洋"}, HTTP_HX_REQUEST="true").content.decode()
    table = body.split('id="cadre-table"')[1].split("</table>")[0]
    assert "刘洋" in table and "张伟" not in table
    assert 'hx-select="#cadre-table"' in body


def test_the_cadre_list_pages_its_positions_table(world: World, monkeypatch: pytest.MonkeyPatch):
    from jishi.cadres import views as cadre_views

    monkeypatch.setattr(cadre_views, "POSITIONS_PER_PAGE", 1)
    client = Client()
    client.force_login(world.alice)
    titles = [p.title for p in world.positions]
    first = client.get(reverse("cadre_list")).content.decode()
    second = client.get(reverse("cadre_list"), {"ppage": "2"}).content.decode()
    assert f"第 1 / {len(titles)} 页" in first and "ppage=2" in first
    assert sum(t in first for t in titles) == 1 and sum(t in second for t in titles) == 1
