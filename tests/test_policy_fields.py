"""Sensitive fields (policy ``field.*``): shown to the roles with need, hidden from the rest — on the page and
in the JSON API. 身份证号 (``field.id_number``), 纪检监察机关意见 (``field.discipline_opinion``), each
candidate's votes (``field.votes``). The Cadre model has no phone number, so there is no phone rule."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jishi.accounts import policy
from jishi.cadres.models import Cadre
from jishi.core.roles import Role
from jishi.selection.models import Batch, StepRecord
from tests.api_helpers import ApiClient

ID_NUMBER = "11010519491231002X"
MASKED = "110105********002X"
HIDDEN = "（无权查看）"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_field_rules_give_the_roles_of_the_tests_below_the_answers_they_expect():
    # The tests below use one allowed and one refused person per field; keep them meaningful.
    assert policy.allows((Role.CLERK,), "field.id_number", policy.OWN)
    assert not policy.allows((Role.DISCIPLINE,), "field.id_number", policy.OWN)
    for field in ("field.discipline_opinion", "field.votes"):
        assert policy.allows((Role.DISCIPLINE,), field, policy.OWN)
        assert policy.allows((Role.SECTION_HEAD,), field, policy.OWN)
        assert not policy.allows((Role.ARCHIVIST,), field, policy.OWN)


@pytest.fixture
def cadre_with_id(world) -> Cadre:
    cadre = world.cadres[0]
    cadre.set_id_number(ID_NUMBER)
    cadre.save()
    return cadre


def test_the_cadre_page_shows_the_masked_id_number_to_a_clerk_and_hides_it_from_discipline(world, cadre_with_id):
    url = reverse("cadre_detail", args=[cadre_with_id.pk])
    shown = _client(world.alice).get(url)
    hidden = _client(world.dave).get(url)
    assert shown.status_code == hidden.status_code == 200
    assert MASKED in shown.content.decode()
    body = hidden.content.decode()
    assert MASKED not in body and ID_NUMBER not in body
    assert "无权查看" in body


def test_the_cadre_api_gives_the_masked_id_number_to_a_clerk_and_null_to_discipline(world, cadre_with_id):
    status, shown = ApiClient(world.alice).get(f"/cadres/{cadre_with_id.pk}")
    assert status == 200 and shown["id_number_masked"] == MASKED
    status, hidden = ApiClient(world.dave).get(f"/cadres/{cadre_with_id.pk}")
    assert status == 200 and hidden["id_number_masked"] is None
    assert ID_NUMBER not in str(hidden) and MASKED not in str(hidden)


def test_the_lrmx_export_with_the_id_number_is_refused_to_discipline(world, cadre_with_id):
    response = _client(world.dave).get(reverse("cadre_lrmx_export", args=[cadre_with_id.pk]))
    assert response.status_code == 403
    assert ID_NUMBER not in response.content.decode(errors="replace")


def _record(batch: Batch, step_id: str) -> StepRecord:
    return StepRecord.objects.get(batch=batch, step_id=step_id, corrects__isnull=True)


def _opinion_row(response, label: str) -> str:
    rows = [r for r in response.context["field_rows"] if r["f"].label == label]
    assert len(rows) == 1
    return str(rows[0]["value"])


@pytest.mark.parametrize(
    ("step_id", "field_id", "label"), [("D06", "opinion", "廉政意见"), ("K09", "conclusion", "纪检监察机关意见结论")]
)
def test_the_discipline_opinion_on_the_step_page_is_shown_to_discipline_and_hidden_from_the_archivist(
    world, finished_batch, step_id, field_id, label
):
    record = _record(finished_batch, step_id)
    value = record.data[field_id]
    assert value
    url = reverse("step_nomination", args=[record.nomination_id, step_id])
    shown = _client(world.dave).get(url)
    hidden = _client(world.frank).get(url)
    assert shown.status_code == hidden.status_code == 200
    assert _opinion_row(shown, label) == value
    assert _opinion_row(hidden, label) == HIDDEN
    assert HIDDEN in hidden.content.decode()


@pytest.mark.parametrize(("step_id", "field_id"), [("D06", "opinion"), ("K09", "conclusion")])
def test_the_discipline_opinion_in_the_api_is_given_to_the_section_head_and_null_to_the_archivist(
    world, finished_batch, step_id, field_id
):
    record = _record(finished_batch, step_id)
    status, shown = ApiClient(world.bob).get(f"/records/{record.pk}")
    assert status == 200 and shown["data"][field_id] == record.data[field_id]
    status, hidden = ApiClient(world.frank).get(f"/records/{record.pk}")
    assert status == 200 and hidden["data"][field_id] is None
    # The other fields of the step stay readable.
    others = [k for k in record.data if k != field_id]
    assert others and all(hidden["data"][k] == record.data[k] for k in others)


def test_the_report_form_page_hides_the_discipline_opinion_and_the_votes_from_the_archivist(world, finished_batch):
    nomination = finished_batch.nominations.get()
    url = reverse("report_form", args=[nomination.pk])
    shown = _client(world.dave).get(url).content.decode()
    hidden = _client(world.frank).get(url).content.decode()
    assert "本人得票：同意（推荐）7" in shown
    assert "本人得票：同意（推荐）" not in hidden
    assert f"本人得票：{HIDDEN}" in hidden
    assert HIDDEN not in shown


def test_the_votes_on_the_step_page_are_shown_to_the_section_head_and_hidden_from_the_archivist(world, finished_batch):
    record = _record(finished_batch, "J04")
    line = record.tally.lines.get()
    assert (line.approve, line.oppose) == (7, 1)
    url = reverse("step_batch", args=[finished_batch.pk, "J04"])
    shown = _client(world.bob).get(url)
    hidden = _client(world.frank).get(url)
    assert shown.status_code == hidden.status_code == 200
    assert shown.context["votes_hidden"] is False and hidden.context["votes_hidden"] is True
    assert '<td class="num">7</td>' in shown.content.decode()
    body = hidden.content.decode()
    assert '<td class="num">7</td>' not in body
    assert "各人选得票情况仅限有关人员查看" in body
    assert "应到 9 人" in body  # attendance stays visible


def test_the_votes_in_the_api_are_given_to_discipline_and_left_out_for_the_archivist(world, finished_batch):
    record = _record(finished_batch, "J04")
    status, shown = ApiClient(world.dave).get(f"/records/{record.pk}/tally")
    assert status == 200 and [(x["approve"], x["oppose"]) for x in shown["lines"]] == [(7, 1)]
    status, hidden = ApiClient(world.frank).get(f"/records/{record.pk}/tally")
    assert status == 200 and hidden["lines"] == [] and hidden["recorded"] is True and hidden["due"] == 9
    status, whole = ApiClient(world.frank).get(f"/records/{record.pk}")
    assert status == 200 and whole["tally"]["lines"] == []


def test_the_archived_original_of_the_report_form_keeps_every_field(world, finished_batch):
    from jishi.documents.report_data import report_form

    nomination = finished_batch.nominations.get()
    full = report_form(nomination)
    texts = [v for r in full.records() for _label, v in r.fields] + [t for r in full.records() for t in r.tally]
    assert HIDDEN not in " ".join(texts)
    seen_by_frank = report_form(nomination, viewer=world.frank)
    assert HIDDEN in " ".join(v for r in seen_by_frank.records() for _label, v in r.fields)


def test_the_ledger_events_api_withholds_the_discipline_opinion_and_votes_from_the_archivist(world, finished_batch):
    d06, j04 = _record(finished_batch, "D06"), _record(finished_batch, "J04")
    for reader, hidden in ((world.dave, False), (world.frank, True)):
        status, page = ApiClient(reader).get(f"/ledger/events?subject_type=steprecord&subject_id={d06.pk}")
        assert status == 200
        saved = [e for e in page["items"] if e["action"] in ("step.save", "step.complete")]
        assert saved, "the D06 record has content events"
        for event in saved:
            assert (event["payload"]["data"]["opinion"] is None) is hidden
            assert ("data.opinion" in event["withheld"]) is hidden
        assert (d06.data["opinion"] in str(page)) is not hidden
        status, page = ApiClient(reader).get(f"/ledger/events?subject_type=steprecord&subject_id={j04.pk}")
        tallies = [e for e in page["items"] if e["action"] == "tally.save"]
        assert status == 200 and tallies
        assert all((e["payload"]["lines"] == {}) is hidden for e in tallies)
        assert all(("lines" in e["withheld"]) is hidden for e in tallies)
