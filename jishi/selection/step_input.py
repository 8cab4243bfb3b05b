"""Parse and check what a clerk typed into a step's fields and vote tally — pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jishi.core.exceptions import ApplicationError
from jishi.procedures.schema import FieldType, Step

MIN_YEAR, MAX_YEAR = 1949, 2100


def _parse_date(value: str) -> dt.date:
    parsed = dt.date.fromisoformat(value)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError
    return parsed


def clean_field_value(field_type: FieldType, raw: str, choices: tuple[str, ...]) -> Any:
    value = raw.strip()
    if "\x00" in value:
        raise ValueError("NUL")
    if field_type == FieldType.INTEGER:
        number = int(value)
        if number < 0:
            raise ValueError("negative")
        return number
    if field_type == FieldType.DATE:
        return _parse_date(value).isoformat()
    if field_type == FieldType.DATETIME:
        parsed = dt.datetime.fromisoformat(value)
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise ValueError
        return parsed.replace(second=0, microsecond=0, tzinfo=None).isoformat(timespec="minutes")
    if field_type == FieldType.BOOLEAN:
        if value in ("1", "true", "on", "是"):
            return True
        if value in ("0", "false", "off", "否"):
            return False
        raise ValueError
    if field_type == FieldType.CHOICE and value not in choices:
        raise ValueError
    return value


_TYPE_HINT = {
    FieldType.INTEGER: "请填写不小于 0 的整数",
    FieldType.DATE: "请填写有效日期（如 2026-11-27）",
    FieldType.DATETIME: "请填写有效的日期和时间（如 2026-11-27 09:30）",
    FieldType.BOOLEAN: "请选择是或否",
    FieldType.CHOICE: "请从列表中选择",
}


def clean_step_data(step: Step, raw: dict[str, str], *, partial: bool = True) -> dict[str, Any]:
    """Return cleaned values for the step's fields; unknown keys are ignored.

    ``partial`` allows required fields to stay empty while the record is still in progress;
    completion calls ``missing_required`` instead.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in step.fields:
        value = (raw.get(f.id) or "").strip()
        if not value:
            if f.type == FieldType.BOOLEAN and f.id in raw:
                cleaned[f.id] = False
            elif not partial and f.required:
                errors[f.id] = f"“{f.label}”为必填项"
            continue
        if len(value) > 5000:
            errors[f.id] = f"“{f.label}”内容过长（不超过 5000 字）"
            continue
        try:
            cleaned[f.id] = clean_field_value(f.type, value, f.choices)
        except ValueError:
            errors[f.id] = f"“{f.label}”：{_TYPE_HINT.get(f.type, '格式不正确')}"
    if errors:
        raise ApplicationError(
            "填写内容有误，请按提示修改后重新保存。", code="invalid_fields", extra={"fields": errors}
        )
    return cleaned


def missing_required(step: Step, data: dict[str, Any]) -> list[str]:
    return [f.label for f in step.fields if f.required and data.get(f.id) in (None, "")]


@dataclass(frozen=True)
class TallyInput:
    due: int
    present: int
    valid_ballots: int
    lines: dict[int, tuple[int, int, int, int]]  # nomination id → (同意, 不同意, 弃权, 缓议)


def _count(raw: Any, label: str, errors: dict[str, str], key: str) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[key] = f"{label}必须是整数"
        return 0
    if value < 0:
        errors[key] = f"{label}不能是负数"
        return 0
    if value > 100000:
        errors[key] = f"{label}数值过大"
        return 0
    return value


def parse_tally(raw: dict[str, Any], candidates: dict[int, str]) -> TallyInput:
    """raw has due/present/valid and, per nomination id N, approve_N/oppose_N/abstain_N/defer_N."""
    errors: dict[str, str] = {}
    due = _count(raw.get("due"), "应到人数", errors, "due")
    present = _count(raw.get("present"), "实到人数", errors, "present")
    valid = _count(raw.get("valid_ballots"), "有效票数", errors, "valid_ballots")
    if not errors:
        if due == 0:
            errors["due"] = "应到人数必须大于 0"
        if present > due:
            errors["present"] = f"实到人数（{present}）不能多于应到人数（{due}）"
        if valid > present:
            errors["valid_ballots"] = f"有效票数（{valid}）不能多于实到人数（{present}）"
    lines: dict[int, tuple[int, int, int, int]] = {}
    for nid, name in candidates.items():
        parts = tuple(
            _count(raw.get(f"{key}_{nid}", "0") or "0", f"{name}的{label}", errors, f"{key}_{nid}")
            for key, label in (
                ("approve", "同意票"),
                ("oppose", "不同意票"),
                ("abstain", "弃权票"),
                ("defer", "缓议票"),
            )
        )
        if sum(parts) > valid and f"approve_{nid}" not in errors and "valid_ballots" not in errors:
            errors[f"approve_{nid}"] = f"{name}的各项票数合计（{sum(parts)}）超过有效票数（{valid}）"
        lines[nid] = (parts[0], parts[1], parts[2], parts[3])
    if errors:
        raise ApplicationError("计票数据有误，请核对后重新填写。", code="invalid_tally", extra={"fields": errors})
    return TallyInput(due=due, present=present, valid_ballots=valid, lines=lines)
