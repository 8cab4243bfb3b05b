"""The shipped procedure definition and the loader's refusals — pure, except the command tests."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jishi.procedures.loader import DefinitionError, DefinitionInvalid, bundled_path, load_file, parse_text
from jishi.procedures.schema import ProcedureDefinition
from jishi.supervision.rules import REGISTRY

STANDARD_PATH = bundled_path("standard")
STANDARD = STANDARD_PATH.read_text(encoding="utf-8")

# Rule params that name a field of the step; every other param is a plain setting.
FIELD_PARAMS = {
    "field",
    "before",
    "after",
    "start",
    "end",
    "due_field",
    "present_field",
    "members_field",
    "reason_field",
}
SETTING_PARAMS = {
    "ratio",
    "severity",
    "min",
    "days",
    "label",
    "min_members",
    "months",
    "hours",
    "working_days",
    "reply_days",
    "remind_days",
    "work_months",
    "grassroots_months",
    "deputy_to_chief_months",
    "chief_up_months",
    "min_months",
    "min_resume_lines",
    "county_min",
    "bureau_min",
    "term_block",
    "post_months",
    "rank_months",
}
# Params that name another step of the procedure.
STEP_PARAMS = {
    "quota_step",
    "report_step",
    "discipline_step",
    "archive_step",
    "recommendation_step",
    "exception_step",
    "notice_step",
}

# A small definition that loads; the cross-reference cases below each break one thing in it.
MINI = """\
code: mini
version: "1"
name: 小流程
sources:
  - {id: src, title: 测试依据}
stages:
  - id: s1
    name: 第一环节
    name_en: First
    steps:
      - id: A
        name: 甲
        name_en: A
        scope: batch
        responsible_roles: [clerk]
        signer_roles: [clerk]
        items:
          - {id: IA, name: 甲记录, kind: notebook, archive: batch}
        requirements:
          - {id: A-1, text: 记录, item: IA, methods: [BJ], responsible: [clerk]}
        basis: [{source: src}]
      - id: B
        name: 乙
        name_en: B
        scope: nomination
        prerequisites: [A]
        responsible_roles: [clerk]
        signer_roles: [clerk]
        item_refs: [IA]
        fields:
          - {id: kind, label: 类别, type: choice, choices: [x, y]}
        requirements:
          - {id: B-1, text: 记录, item: IA, methods: [BJ], responsible: [clerk]}
        basis: [{source: src}]
"""


def line_of(text: str, needle: str, occurrence: int = 1, *, whole: bool = False) -> int:
    """1-based line number of the n-th line containing needle (or, with whole, equal to it once stripped)."""
    hits = [
        number
        for number, line in enumerate(text.splitlines(), 1)
        if (line.strip() == needle if whole else needle in line)
    ]
    assert len(hits) >= occurrence, f"{needle!r} occurs {len(hits)} times"
    return hits[occurrence - 1]


def mutate(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def errors_of(text: str) -> list[DefinitionError]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_text(text)
    return caught.value.errors


def the_error(errors: list[DefinitionError], message_fragment: str) -> DefinitionError:
    matching = [e for e in errors if message_fragment in e.message]
    assert len(matching) == 1, [str(e) for e in errors]
    return matching[0]


@pytest.fixture(scope="module")
def standard() -> ProcedureDefinition:
    return load_file(STANDARD_PATH).definition


# ── the shipped standard definition ──────────────────────────────────────────────────────────


def test_the_standard_file_loads_with_the_published_counts(standard):
    assert standard.code == "standard"
    assert standard.counts() == {"stages": 6, "steps": 44, "items": 36, "requirements": 61}


def test_the_standard_header_comment_states_the_same_counts_as_the_file(standard):
    c = standard.counts()
    expected = f"{c['stages']} 个环节、{c['steps']} 个操作步骤、{c['items']} 个纪实项目、{c['requirements']} 条纪实要求"
    assert expected in STANDARD.split("\ncode:")[0]


def test_the_standard_stages_hold_9_7_12_5_5_6_steps(standard):
    assert [len(stage.steps) for stage in standard.stages] == [9, 7, 12, 5, 5, 6]
    assert [stage.name for stage in standard.stages] == ["动议", "民主推荐", "考察", "酝酿", "讨论决定", "任用"]


def test_the_standard_procedure_opens_with_the_three_neijiang_initiation_steps(standard):
    assert [step.name for step in standard.steps()[:3]] == [
        "听取党委（党组）意见",
        "听取党政分管领导意见",
        "酝酿提出调整建议方案",
    ]
    assert standard.prerequisites_of(standard.steps()[0].id) == ()


def test_every_standard_step_has_a_legal_basis_citing_a_declared_source(standard):
    source_ids = {source.id for source in standard.sources}
    for step in standard.steps():
        assert step.basis, step.id
        for basis in step.basis:
            assert basis.source in source_ids, (step.id, basis.source)
            assert basis.article or basis.note, f"{step.id}: basis {basis.source} says nothing"


def test_every_rule_code_in_the_standard_file_is_a_registered_rule(standard):
    codes = {rule.code for step in standard.steps() for rule in step.rules} | {r.code for r in standard.rules}
    assert codes, "the standard file binds no rules at all"
    assert codes <= set(REGISTRY), codes - set(REGISTRY)


def test_every_rule_field_param_in_the_standard_file_names_a_field_of_its_step(standard):
    checked = 0
    for step in standard.steps():
        field_ids = {f.id for f in step.fields}
        for rule in step.rules:
            unknown_params = set(rule.params) - FIELD_PARAMS - SETTING_PARAMS - STEP_PARAMS
            assert not unknown_params, f"{step.id} {rule.code}: unclassified params {unknown_params}"
            for key in set(rule.params) & STEP_PARAMS:
                assert rule.params[key] in {s.id for s in standard.steps()}, f"{step.id} {rule.code}.{key}"
            for key in set(rule.params) & FIELD_PARAMS:
                assert rule.params[key] in field_ids, f"{step.id} {rule.code}.{key} = {rule.params[key]}"
                checked += 1
    assert checked >= 10


def test_tally_based_rules_in_the_standard_file_sit_on_steps_that_record_a_tally(standard):
    for step in standard.steps():
        for rule in step.rules:
            needs_tally = rule.code in ("W25", "W26", "W16") or (
                rule.code in ("W13", "W24") and "due_field" not in rule.params
            )
            if needs_tally:
                assert step.tally is not None, f"{step.id} {rule.code} has no tally to read"


def test_the_loaded_definition_keeps_its_source_and_its_sha256():
    loaded = parse_text(STANDARD)
    assert loaded.source == STANDARD
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.sha256)
    assert parse_text(STANDARD + "\n# 注释\n").sha256 != loaded.sha256


def test_the_small_hand_written_definition_loads():
    definition = parse_text(MINI).definition
    assert definition.counts() == {"stages": 1, "steps": 2, "items": 1, "requirements": 2}
    assert [item.id for item in definition.items_of("B")] == ["IA"]


# ── refusals, each pointing at a line ─────────────────────────────────────────────────────────


def test_it_refuses_malformed_yaml_and_names_the_line():
    text = mutate(STANDARD, "        name: 听取党政分管领导意见", "        name: 听取党政分管领导意见: 追加")
    [error] = errors_of(text)
    assert error.message.startswith("YAML 格式错误")
    assert error.line == line_of(text, "听取党政分管领导意见: 追加")


def test_it_refuses_an_unknown_key_and_points_at_the_typo():
    text = mutate(STANDARD, "        signer_note: 意见提供人", "        signer_notes: 意见提供人")
    [error] = errors_of(text)
    assert error.message == "不认识的字段（拼写错误？）"
    assert error.location == "stages.0.steps.0.signer_notes"
    assert error.line == line_of(text, "signer_notes:")
    assert str(error).startswith(f"第 {error.line} 行（stages.0.steps.0.signer_notes）")


def test_it_refuses_an_unknown_role_and_points_at_the_role():
    text = mutate(STANDARD, "        responsible_roles: [clerk]", "        responsible_roles: [clerck]")
    error = the_error(errors_of(text), "取值不在允许范围内")
    assert error.location == "stages.0.steps.0.responsible_roles.0"
    assert error.line == line_of(text, "[clerck]")


def test_it_reports_a_single_unknown_role_as_a_single_error():
    # One wrong role must not also be reported as "the list is empty" (至少需要一项): the list has one entry.
    text = mutate(STANDARD, "        responsible_roles: [clerk]", "        responsible_roles: [clerck]")
    assert [e.message for e in errors_of(text)] == ["取值不在允许范围内"]


def test_it_refuses_a_choice_field_without_choices_and_points_at_the_field():
    text = mutate(MINI, ", choices: [x, y]", "")
    error = the_error(errors_of(text), "选择型字段必须列出 choices")
    assert error.message == "字段 kind: 选择型字段必须列出 choices"
    assert error.location == "stages.0.steps.1.fields.0"
    assert error.line == line_of(text, "{id: kind")


@pytest.mark.parametrize("text", ["- a\n- b\n", "只是一句话\n", "", "42\n"])
def test_it_refuses_a_document_that_is_not_a_mapping(text):
    [error] = errors_of(text)
    assert error.message == "文件内容必须是一个映射（键: 值）"
    assert error.line == 1


# Cross references: (case, broken text, message, line of the offending node).
_DUPLICATE = mutate(STANDARD, "      - id: D02", "      - id: D01")
_LATER_PREREQUISITE = mutate(
    STANDARD, "        signer_note: 被听取意见的", "        prerequisites: [D03]\n        signer_note: 被听取意见的"
)
_UNKNOWN_PREREQUISITE = mutate(MINI, "prerequisites: [A]", "prerequisites: [Z]")
_UNDEFINED_ITEM_REF = mutate(MINI, "item_refs: [IA]", "item_refs: [IA, IZ]")
_FOREIGN_ITEM = mutate(STANDARD, "            item: I02", "            item: I01")
CROSS_REFERENCE_CASES = [
    pytest.param(
        _DUPLICATE, "步骤编号重复: D01", line_of(_DUPLICATE, "- id: D01", 2, whole=True), id="duplicate-step-id"
    ),
    pytest.param(
        _LATER_PREREQUISITE,
        "步骤 D02 的前置步骤 D03 不存在或不在它之前",
        line_of(_LATER_PREREQUISITE, "prerequisites: [D03]"),
        id="prerequisite-is-a-later-step",
    ),
    pytest.param(
        _UNKNOWN_PREREQUISITE,
        "步骤 B 的前置步骤 Z 不存在或不在它之前",
        line_of(_UNKNOWN_PREREQUISITE, "prerequisites: [Z]"),
        id="prerequisite-is-unknown",
    ),
    pytest.param(
        _UNDEFINED_ITEM_REF,
        "步骤 B 引用的纪实项目 IZ 未在此前步骤中定义",
        line_of(_UNDEFINED_ITEM_REF, "item_refs: [IA, IZ]"),
        id="item-ref-undefined",
    ),
    pytest.param(
        _FOREIGN_ITEM,
        "纪实要求 D02-1 指向的纪实项目 I01 不属于步骤 D02",
        line_of(_FOREIGN_ITEM, "item: I01", 2, whole=True),
        id="requirement-names-another-steps-item",
    ),
]


@pytest.mark.parametrize(("text", "message", "line"), CROSS_REFERENCE_CASES)
def test_it_refuses_a_broken_cross_reference_with_a_message_naming_it(text, message, line):
    errors = errors_of(text)
    assert any(message in e.message for e in errors), [str(e) for e in errors]


@pytest.mark.parametrize(("text", "message", "line"), CROSS_REFERENCE_CASES)
def test_it_points_a_broken_cross_reference_at_the_offending_line(text, message, line):
    error = the_error(errors_of(text), message)
    assert error.line == line, str(error)


# ── manage.py procedure ───────────────────────────────────────────────────────────────────────


def test_procedure_check_accepts_the_standard_file():
    out = io.StringIO()
    call_command("procedure", "check", str(STANDARD_PATH), stdout=out)
    assert "校验通过" in out.getvalue()
    assert "6 个环节（stages），44 个操作步骤（steps），36 个纪实项目（items），61 条纪实要求（requirements）" in (
        out.getvalue()
    )


def test_procedure_check_refuses_a_bad_file_and_prints_the_line(tmp_path: Path):
    text = mutate(STANDARD, "        signer_note: 意见提供人", "        signer_notes: 意见提供人")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="流程定义文件有 1 处错误"):
        call_command("procedure", "check", str(bad), stdout=out, stderr=err)
    assert f"{bad}: 第 {line_of(text, 'signer_notes:')} 行" in err.getvalue()
    assert "不认识的字段" in err.getvalue()
    assert "校验通过" not in out.getvalue()


@pytest.mark.django_db
def test_procedure_show_counts_only_prints_the_four_counts_and_no_tree():
    out = io.StringIO()
    call_command("procedure", "show", "standard", "--counts-only", stdout=out)
    text = out.getvalue()
    assert re.search(r"6 个环节.*44 个操作步骤.*36 个纪实项目.*61 条纪实要求", text), text
    assert "■" not in text
    assert "D01" not in text


@pytest.mark.django_db
def test_procedure_show_prints_the_tree_with_every_step():
    out = io.StringIO()
    call_command("procedure", "show", "standard", stdout=out)
    text = out.getvalue()
    assert text.count("■ ") == 6
    assert "■ 考察（12 步）" in text
    assert "  D01 听取党委（党组）意见 [批次]" in text


@pytest.mark.django_db
def test_procedure_show_refuses_an_unknown_code():
    with pytest.raises(CommandError, match="找不到流程“nosuch”"):
        call_command("procedure", "show", "nosuch", stdout=io.StringIO())


@pytest.mark.django_db
def test_check_refuses_a_rule_the_system_does_not_have(tmp_path, capsys):
    from django.core.management import CommandError, call_command

    from jishi.procedures.loader import bundled_path

    source = bundled_path("standard").read_text(encoding="utf-8").replace("code: W18", "code: W18X", 1)
    path = tmp_path / "bad_rule.yaml"
    path.write_text(source, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("procedure", "check", str(path))
    assert "K01: W18X" in capsys.readouterr().err
