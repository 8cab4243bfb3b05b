"""Cadre master data ⇄ ``ApprovalForm`` (the 干部任免审批表 as plain data), and the difference between them.

Months are ``DateField``s on day 1 in the database and ``yyyyMM`` text on the form. Form values that are not
master data (拟任职务, 任免理由, 呈报单位 …) live in ``Cadre.approval_extra`` so an imported file exports back
unchanged; when a nomination is given they come from the nomination instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Final

from django.utils import timezone

from jishi.core.exceptions import ApplicationError

from . import lrmx
from .approval_data import ApprovalForm, FamilyRow

if TYPE_CHECKING:
    from jishi.selection.models import Nomination

    from .models import Cadre

# approval_extra keys: form fields kept verbatim, plus 入党时间 when it is not a year-month.
EXTRA_FIELDS: Final = (
    "proposed_post",
    "post_to_remove",
    "appointment_reason",
    "submitting_unit",
    "age_reference_date",
    "filled_on",
    "filled_by",
    "version",
)
PARTY_JOIN_TEXT: Final = "party_join_text"
CPC_STATUSES: Final = frozenset({"中共党员", "中共预备党员", "群众", ""})

# Form field → Cadre field, for values copied as they are.
PLAIN_FIELDS: Final[dict[str, str]] = {
    "name": "name",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "native_place": "native_place",
    "birthplace": "birthplace",
    "health": "health",
    "professional_title": "professional_title",
    "expertise": "expertise",
    "fulltime_education": "fulltime_education",
    "fulltime_degree": "fulltime_degree",
    "fulltime_education_school": "fulltime_school_major",
    "fulltime_degree_school": "fulltime_degree_school",
    "inservice_education": "inservice_education",
    "inservice_degree": "inservice_degree",
    "inservice_education_school": "inservice_school_major",
    "inservice_degree_school": "inservice_degree_school",
    "current_post": "current_post",
    "resume": "resume",
    "rewards_punishments": "rewards_punishments",
    "annual_appraisals": "annual_appraisals",
    "retirement_age_basis": "retirement_age_basis",
}

_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")


def month_text(value: dt.date | None) -> str:
    return value.strftime("%Y%m") if value else ""


def month_date(text: str) -> dt.date | None:
    """``yyyyMM`` → the first of that month; anything else → None."""
    match = _MONTH.match(text)
    if not match or int(match.group(1)) < 1800:
        return None
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def _required_month(text: str, label: str) -> dt.date:
    if not text.strip():
        raise ApplicationError(f"任免审批表中缺少{label}。", code="lrmx_missing_month")
    value = month_date(text)
    if value is None:
        raise ApplicationError(f"{label}应为 yyyyMM 格式（如 198205），文件中为「{text}」。", code="lrmx_invalid_month")
    return value


# Cadre → form ----------------------------------------------------------------------------------------


def _party_join(cadre: Cadre) -> str:
    if cadre.party_join_month:
        return month_text(cadre.party_join_month)
    if PARTY_JOIN_TEXT in cadre.approval_extra:
        return str(cadre.approval_extra[PARTY_JOIN_TEXT])
    # A 民主党派 member's 入党时间 cell shows the party's name.
    return "" if cadre.party_status in CPC_STATUSES else cadre.party_status


def form_from_cadre(cadre: Cadre, nomination: Nomination | None = None) -> ApprovalForm:
    """The 任免审批表 of a cadre; with a nomination, 拟任职务/呈报单位/计算年龄时间 come from it."""
    extra = {key: str(cadre.approval_extra.get(key, "")) for key in EXTRA_FIELDS}
    extra["version"] = extra["version"] or lrmx.DEFAULT_VERSION  # what build() writes anyway
    if nomination is not None:
        extra["proposed_post"] = str(nomination.position)
        extra["submitting_unit"] = nomination.batch.org_unit.name
        extra["age_reference_date"] = extra["age_reference_date"] or timezone.localdate().strftime("%Y%m%d")
    family = tuple(
        FamilyRow(
            relation=member.relation,
            name=member.name,
            birth=month_text(member.birth_month) or member.birth_text,
            political_status=member.political_status,
            work_unit_position=member.work_unit_position,
        )
        for member in cadre.family.all()
    )
    return ApprovalForm(
        **{form_field: getattr(cadre, model_field) for form_field, model_field in PLAIN_FIELDS.items()},
        **extra,
        birth=month_text(cadre.birth_month),
        party_join=_party_join(cadre),
        work_start=month_text(cadre.work_start_month),
        family=family,
        id_number=cadre.id_number,
        photo=bytes(cadre.photo or b""),
    )


# Form → cadre ----------------------------------------------------------------------------------------


def cadre_fields_from_form(form: ApprovalForm) -> dict[str, Any]:
    """Model values for a form: Cadre fields, ``approval_extra`` (its LRMX keys only), ``id_number`` (plain, to
    go through ``Cadre.set_id_number``) and ``family`` (FamilyMember field dicts). Raises ApplicationError
    for months the database cannot hold."""
    party_join_month = month_date(form.party_join)
    extra: dict[str, str] = {key: getattr(form, key) for key in EXTRA_FIELDS if getattr(form, key)}
    if party_join_month is None:
        # Kept even when empty: an empty cell must not fall back to the cadre's 政治面貌 on export.
        extra[PARTY_JOIN_TEXT] = form.party_join
    family = []
    for row in form.family:
        birth_month = month_date(row.birth)
        family.append(
            {
                "relation": row.relation,
                "name": row.name,
                "birth_month": birth_month,
                "birth_text": "" if birth_month else row.birth,
                "political_status": row.political_status,
                "work_unit_position": row.work_unit_position,
            }
        )
    return {
        **{model_field: getattr(form, form_field) for form_field, model_field in PLAIN_FIELDS.items()},
        "birth_month": _required_month(form.birth, "出生年月"),
        "work_start_month": _required_month(form.work_start, "参加工作时间"),
        "party_join_month": party_join_month,
        "photo": form.photo,
        "photo_kind": lrmx.image_kind(form.photo),
        "approval_extra": extra,
        "id_number": form.id_number.strip().upper(),
        "family": family,
    }


# Differences -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One line of the difference table: 字段 / 原值 / 新值 (display text)."""

    field: str  # ApprovalForm field name (``family`` for every family row)
    label: str
    old: str
    new: str


def _display(field: str, value: str) -> str:
    if field == "id_number" and len(value) == 18:
        return f"{value[:6]}********{value[-4:]}"  # the difference table never shows the whole number
    if month_date(value) and field in {"birth", "party_join", "work_start"}:
        return f"{value[:4]}.{value[4:]}"
    return value


def _photo_display(photo: bytes) -> str:
    if not photo:
        return ""
    return f"{lrmx.image_kind(photo).upper()} 图片（{len(photo) / 1024:.1f} KB）"


def _row_display(row: FamilyRow | None) -> str:
    if row is None:
        return ""
    birth = f"{row.birth[:4]}.{row.birth[4:]}" if month_date(row.birth) else row.birth
    return "　".join(v for v in (row.relation, row.name, birth, row.political_status, row.work_unit_position) if v)


def lrmx_diff(cadre: Cadre | None, form: ApprovalForm) -> list[FieldChange]:
    """What importing ``form`` would change on ``cadre`` (everything filled in, for a new cadre)."""
    old = form_from_cadre(cadre) if cadre is not None else ApprovalForm()
    changes: list[FieldChange] = []
    for f in fields(ApprovalForm):
        before, after = getattr(old, f.name), getattr(form, f.name)
        if before == after:
            continue
        label = lrmx.LABELS[f.name]
        if f.name == "family":
            for index in range(max(len(before), len(after))):
                row_old = before[index] if index < len(before) else None
                row_new = after[index] if index < len(after) else None
                if row_old != row_new:
                    row_label = f"家庭成员第 {index + 1} 行"
                    changes.append(FieldChange("family", row_label, _row_display(row_old), _row_display(row_new)))
        elif f.name == "photo":
            changes.append(FieldChange("photo", label, _photo_display(before), _photo_display(after)))
        else:
            changes.append(FieldChange(f.name, label, _display(f.name, before), _display(f.name, after)))
    return changes
