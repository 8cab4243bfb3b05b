"""The printable 纪实专用笔记本: entries in time order, numbered, with step, recorder and confirmations."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re

import pytest
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone
from pypdf import PdfReader

from jishi import urls as project_urls
from jishi.core.testing import SIGNING_PIN, World
from jishi.documents.notebook_data import ConfirmationLine, host_of, notebook_for_batch
from jishi.documents.notebook_pdf import render_notebook_pdf
from jishi.ledger.models import Event
from jishi.selection.models import Batch
from jishi.selection.services import batch_create, nomination_add, notebook_entry_add, step_start
from jishi.selection.walk import walk

# The documents URLs are not wired into the project yet; this module serves as the test URLconf.
urlpatterns = [*project_urls.urlpatterns, path("documents/", include("jishi.documents.urls_register"))]
pytestmark = pytest.mark.urls(__name__)

FIRST = "首次听取分管副市长意见，同意调整方案方向。"
SECOND = "再次听取分管副市长意见，补充人选条件。"
WALKED = "听取党委（党组）意见记录：按规定听取、记录，内容属实。"  # written by walk()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def noted(world: World, batch: Batch) -> Batch:
    """D01 done by the walk (one entry, an hour ago, confirmed by 李晓红 and 王建国); D02 open with two entries
    written out of order (30 minutes ago, then five hours ago) and nobody's confirmation yet."""
    walk(batch=batch, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "D02")
    record = step_start(actor=world.alice, batch=batch, step_id="D02")
    now = timezone.now()
    for minutes, content in ((30, SECOND), (300, FIRST)):
        notebook_entry_add(
            actor=world.alice,
            record=record,
            item_id="I02",
            kind="hearing",
            occurred_at=now - dt.timedelta(minutes=minutes),
            place="市委常委会议室",
            participants="陈志远、王建国、李晓红",
            content=content,
        )
    return batch


def test_entries_are_in_time_order_with_sequential_numbers(noted: Batch):
    notebook = notebook_for_batch(noted)

    assert [e.number for e in notebook.entries] == [1, 2, 3]
    assert [e.step_id for e in notebook.entries] == ["D02", "D01", "D02"]
    assert notebook.entries[0].content == FIRST and notebook.entries[2].content == SECOND
    assert notebook.entries[1].content == WALKED
    assert [e.occurred_at for e in notebook.entries] == sorted(e.occurred_at for e in notebook.entries)
    d01 = notebook.entries[1]
    assert (d01.step_name, d01.recorder, d01.kind) == ("听取党委（党组）意见", "李晓红", "听取意见")
    assert [(c.name, c.role_label) for c in d01.confirmations] == [("李晓红", "经办人"), ("王建国", "干部科长")]
    assert d01.host == "王建国" and d01.confirmation_label == "已确认" and not d01.unconfirmed
    open_entry = notebook.entries[0]
    assert open_entry.unconfirmed and open_entry.confirmation_label == "未确认" and open_entry.host == ""
    assert open_entry.missing_roles == ("经办人", "干部科长")
    start, end = (timezone.localtime(notebook.entries[i].occurred_at).date() for i in (0, -1))
    assert notebook.period == (start, end) and notebook.period_text == f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"


def test_the_host_is_the_highest_ranking_confirmer_of_the_current_revision():
    at = timezone.now()
    lines = [
        ConfirmationLine("李晓红", "clerk", "经办人", at, True),
        ConfirmationLine("陈志远", "dept_leader", "部领导", at, False),  # confirmed before a later change
        ConfirmationLine("王建国", "section_head", "干部科长", at + dt.timedelta(minutes=1), True),
        ConfirmationLine("吴敏", "supervision", "干部监督", at, True),
    ]
    assert host_of(lines) == "王建国"
    assert host_of([*lines, ConfirmationLine("陈志远", "dept_leader", "部领导", at, True)]) == "陈志远"
    assert host_of(lines[1:2]) == ""


def test_the_pdf_has_a_cover_every_entry_confirmers_and_numbered_pages(noted: Batch):
    pages = _pdf_pages(render_notebook_pdf(noted))
    total = len(pages)
    text = "\n".join(pages)

    cover = pages[0]
    assert "纪实专用笔记本" in cover and noted.title in cover and "中共内江市委组织部" in cover and "共 3 条" in cover
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页 共 {total} 页" in page
        assert f"批次编号 {noted.number}" in page
    for content in (FIRST, SECOND, WALKED):
        assert content in text
    assert "第 1 条" in text and "第 3 条" in text
    assert "经办人：李晓红" in text and "干部科长：王建国" in text and "未确认" in text
    assert text.index(FIRST) < text.index(WALKED) < text.index(SECOND)


def test_a_long_entry_flows_over_several_pages(world: World, noted: Batch):
    record = noted.records.get(step_id="D02")
    ending = "以上谈话内容经本人核对无误。"
    notebook_entry_add(
        actor=world.alice,
        record=record,
        item_id="I02",
        kind="talk",
        occurred_at=timezone.now() - dt.timedelta(minutes=1),
        place="谈话室",
        participants="王建国、李晓红",
        content="谈话中反映的情况逐条记录如下。" * 300 + ending,
    )
    pages = _pdf_pages(render_notebook_pdf(noted))
    assert len(pages) >= 4
    assert ending in pages[-1].replace("\n", "") and f"第 {len(pages)} 页 共 {len(pages)} 页" in pages[-1]


def test_the_printable_page_lists_the_entries_in_order_with_a_print_button(world: World, noted: Batch):
    response = _client(world.alice).get(reverse("notebook_print", args=[noted.pk]))
    body = response.content.decode()

    assert response.status_code == 200
    assert body.index(FIRST) < body.index(WALKED) < body.index(SECOND)
    assert re.findall(r'id="entry-(\d+)"', body) == ["1", "2", "3"]
    assert "未确认" in body and "干部科长：王建国" in body and "主持人" in body
    assert "data-print" in body and "js/print.js" in body and "css/notebook.css" in body and noted.number in body
    assert reverse("notebook_pdf", args=[noted.pk]) in body
    assert not Event.objects.filter(action="notebook.export").exists()


def test_a_clerk_from_another_unit_gets_404_and_leaves_no_trace(world: World, noted: Batch):
    client = _client(world.grace)
    assert client.get(reverse("notebook_print", args=[noted.pk])).status_code == 404
    assert client.get(reverse("notebook_pdf", args=[noted.pk])).status_code == 404
    assert _client(world.oscar).get(reverse("notebook_pdf", args=[noted.pk])).status_code == 404
    assert not Event.objects.filter(action="notebook.export").exists()


def test_downloading_the_pdf_writes_an_access_event_in_the_batchs_chain(world: World, noted: Batch):
    response = _client(world.erin).get(reverse("notebook_pdf", args=[noted.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert FIRST in "\n".join(_pdf_pages(response.content))
    event = Event.objects.get(action="notebook.export")
    payload = json.loads(event.payload)
    assert event.chain.fonds == "J001" and event.actor == world.erin
    assert (event.subject_type, event.subject_id) == ("batch", str(noted.pk))
    assert payload["batch"] == noted.number and payload["entries"] == 3
    assert payload["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_a_city_supervisor_downloading_a_county_notebook_is_recorded_in_the_county_chain(world: World):
    county = batch_create(
        actor=world.grace, org_unit=world.county, title="2026年威远县科级干部调整", positions=[world.county_position]
    )
    nomination_add(actor=world.grace, batch=county, cadre=world.county_cadre, position=world.county_position)
    record = step_start(actor=world.grace, batch=county, step_id="D01")
    notebook_entry_add(
        actor=world.grace,
        record=record,
        item_id="I01",
        kind="hearing",
        occurred_at=timezone.now(),
        place="县委常委会议室",
        participants="县委主要负责同志",
        content="听取县委意见。",
    )

    response = _client(world.carol).get(reverse("notebook_pdf", args=[county.pk]))

    assert response.status_code == 200
    event = Event.objects.get(action="notebook.export")
    assert event.chain.fonds == "J002" and event.actor == world.carol
    assert json.loads(event.payload)["entries"] == 1
