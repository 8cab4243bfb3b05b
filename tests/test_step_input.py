"""What a clerk types into a step's fields and vote tally (selection.step_input) — pure."""

from __future__ import annotations

import pytest

from jishi.core.exceptions import ApplicationError
from jishi.procedures.schema import Step
from jishi.selection.step_input import TallyInput, clean_step_data, missing_required, parse_tally

STEP = Step.model_validate(
    {
        "id": "X01",
        "name": "测试步骤",
        "name_en": "Test step",
        "scope": "batch",
        "responsible_roles": ["clerk"],
        "signer_roles": ["clerk"],
        "requirements": [{"id": "X01-1", "text": "记录", "methods": ["XT"], "responsible": ["clerk"]}],
        "basis": [{"source": "src"}],
        "fields": [
            {"id": "held_on", "label": "会议日期", "type": "date"},
            {"id": "held_at", "label": "会议时间", "type": "datetime", "required": False},
            {"id": "due_members", "label": "应到人数", "type": "integer"},
            {"id": "form", "label": "会议形式", "type": "choice", "choices": ["现场会议", "视频会议"]},
            {"id": "sealed", "label": "是否密封", "type": "boolean"},
            {"id": "chair", "label": "主持人"},
            {"id": "remarks", "label": "备注", "type": "textarea", "required": False},
        ],
    }
)

VALID = {
    "held_on": "2026-11-27",
    "held_at": "2026-11-27 09:30:45",
    "due_members": " 9 ",
    "form": "现场会议",
    "sealed": "是",
    "chair": " 王书记 ",
    "remarks": "无",
}


def field_errors(raw: dict[str, str], *, partial: bool = True) -> dict[str, str]:
    with pytest.raises(ApplicationError) as caught:
        clean_step_data(STEP, raw, partial=partial)
    assert caught.value.code == "invalid_fields"
    assert caught.value.message == "填写内容有误，请按提示修改后重新保存。"
    return caught.value.extra["fields"]


# ── clean_step_data ──────────────────────────────────────────────────────────────────────────


def test_it_cleans_every_field_type():
    assert clean_step_data(STEP, VALID) == {
        "held_on": "2026-11-27",
        "held_at": "2026-11-27T09:30",
        "due_members": 9,
        "form": "现场会议",
        "sealed": True,
        "chair": "王书记",
        "remarks": "无",
    }


def test_it_ignores_keys_that_are_not_fields_of_the_step():
    assert clean_step_data(STEP, {"chair": "王书记", "csrfmiddlewaretoken": "x", "held_on_x": "bad"}) == {
        "chair": "王书记"
    }


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("on", True), ("否", False), ("false", False), ("", False)])
def test_it_reads_a_boolean_and_treats_a_submitted_empty_box_as_no(raw, expected):
    assert clean_step_data(STEP, {"sealed": raw}) == {"sealed": expected}


@pytest.mark.parametrize("raw", ["九", "9.5", "1e3", "-1", "-0x1"])
def test_it_refuses_an_integer_that_is_not_a_whole_number_of_zero_or_more(raw):
    assert field_errors({"due_members": raw}) == {"due_members": "“应到人数”：请填写不小于 0 的整数"}


def test_it_accepts_zero_as_an_integer():
    assert clean_step_data(STEP, {"due_members": "0"}) == {"due_members": 0}


@pytest.mark.parametrize("raw", ["2026-02-30", "2026-13-01", "2026/11/27", "明天", "1948-12-31", "2101-01-01"])
def test_it_refuses_an_impossible_date_or_one_outside_1949_to_2100(raw):
    assert field_errors({"held_on": raw}) == {"held_on": "“会议日期”：请填写有效日期（如 2026-11-27）"}


@pytest.mark.parametrize("raw", ["1949-01-01", "2100-12-31"])
def test_it_accepts_dates_at_the_ends_of_the_allowed_years(raw):
    assert clean_step_data(STEP, {"held_on": raw}) == {"held_on": raw}


@pytest.mark.parametrize("raw", ["2026-11-27 25:00", "1900-01-01 09:00", "2026-02-30 09:00"])
def test_it_refuses_an_impossible_datetime(raw):
    assert field_errors({"held_at": raw}) == {"held_at": "“会议时间”：请填写有效的日期和时间（如 2026-11-27 09:30）"}


def test_it_refuses_a_choice_not_in_the_list():
    assert field_errors({"form": "电话会议"}) == {"form": "“会议形式”：请从列表中选择"}


def test_it_refuses_a_boolean_it_cannot_read():
    assert field_errors({"sealed": "也许"}) == {"sealed": "“是否密封”：请选择是或否"}


def test_it_refuses_text_longer_than_5000_characters():
    assert clean_step_data(STEP, {"remarks": "字" * 5000}) == {"remarks": "字" * 5000}
    assert field_errors({"remarks": "字" * 5001}) == {"remarks": "“备注”内容过长（不超过 5000 字）"}


def test_it_reports_every_bad_field_at_once_keyed_by_field_id():
    errors = field_errors({**VALID, "held_on": "2026-02-30", "due_members": "-3", "form": "书面"})
    assert errors == {
        "held_on": "“会议日期”：请填写有效日期（如 2026-11-27）",
        "due_members": "“应到人数”：请填写不小于 0 的整数",
        "form": "“会议形式”：请从列表中选择",
    }


def test_a_partial_save_may_leave_required_fields_empty():
    assert clean_step_data(STEP, {"chair": "王书记"}) == {"chair": "王书记"}


def test_a_full_save_names_each_empty_required_field():
    errors = field_errors({"chair": "王书记", "held_on": "   "}, partial=False)
    assert errors == {
        "held_on": "“会议日期”为必填项",
        "due_members": "“应到人数”为必填项",
        "form": "“会议形式”为必填项",
        "sealed": "“是否密封”为必填项",
    }


# ── missing_required ─────────────────────────────────────────────────────────────────────────


def test_missing_required_lists_the_labels_of_empty_required_fields_only():
    assert missing_required(STEP, {"chair": "", "due_members": 0, "sealed": False}) == [
        "会议日期",
        "会议形式",
        "主持人",
    ]
    assert missing_required(STEP, clean_step_data(STEP, VALID)) == []


# ── parse_tally ──────────────────────────────────────────────────────────────────────────────

CANDIDATES = {11: "张伟", 12: "刘洋"}


def tally_errors(raw: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ApplicationError) as caught:
        parse_tally(raw, CANDIDATES)
    assert caught.value.code == "invalid_tally"
    assert caught.value.message == "计票数据有误，请核对后重新填写。"
    return caught.value.extra["fields"]


def test_it_parses_a_tally_and_counts_missing_votes_as_zero():
    raw = {"due": "9", "present": "7", "valid_ballots": "7", "approve_11": "5", "oppose_11": "1", "abstain_11": "1"}
    raw |= {"approve_12": " 6 ", "defer_12": ""}
    assert parse_tally(raw, CANDIDATES) == TallyInput(
        due=9, present=7, valid_ballots=7, lines={11: (5, 1, 1, 0), 12: (6, 0, 0, 0)}
    )


def test_it_refuses_more_present_than_due():
    assert tally_errors({"due": "9", "present": "10", "valid_ballots": "9"}) == {
        "present": "实到人数（10）不能多于应到人数（9）"
    }


def test_it_refuses_more_valid_ballots_than_present():
    assert tally_errors({"due": "9", "present": "7", "valid_ballots": "8"}) == {
        "valid_ballots": "有效票数（8）不能多于实到人数（7）"
    }


def test_it_refuses_a_due_count_of_zero():
    assert tally_errors({"due": "0", "present": "0", "valid_ballots": "0"}) == {"due": "应到人数必须大于 0"}


def test_it_refuses_a_missing_or_non_numeric_head_count():
    assert tally_errors({"present": "七", "valid_ballots": "7"}) == {
        "due": "应到人数必须是整数",
        "present": "实到人数必须是整数",
    }


def test_it_refuses_negative_and_non_numeric_votes_naming_the_candidate():
    raw = {"due": "9", "present": "9", "valid_ballots": "9", "approve_11": "五", "oppose_12": "-1"}
    assert tally_errors(raw) == {"approve_11": "张伟的同意票必须是整数", "oppose_12": "刘洋的不同意票不能是负数"}


def test_it_refuses_an_absurdly_large_count():
    assert tally_errors({"due": "100001", "present": "9", "valid_ballots": "9"}) == {"due": "应到人数数值过大"}


def test_it_refuses_a_candidate_whose_votes_add_up_to_more_than_the_valid_ballots():
    raw = {"due": "9", "present": "7", "valid_ballots": "7", "approve_11": "5", "oppose_11": "2", "defer_11": "1"}
    assert tally_errors(raw) == {"approve_11": "张伟的各项票数合计（8）超过有效票数（7）"}


def test_votes_adding_up_to_exactly_the_valid_ballots_are_accepted():
    raw = {"due": "9", "present": "7", "valid_ballots": "7", "approve_11": "5", "oppose_11": "1", "defer_11": "1"}
    assert parse_tally(raw, CANDIDATES).lines[11] == (5, 1, 0, 1)
