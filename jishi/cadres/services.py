"""Cadre master data changes. The ledger keeps a keyed hash of the ID number, never the number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from jishi.accounts.models import OrgUnit, User
from jishi.core.exceptions import ApplicationError
from jishi.ledger.services import event_append

from .models import Cadre, FamilyMember, Position, RankLevel

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_valid(value: str) -> bool:
    """GB 11643 citizen ID: 17 digits + ISO 7064 MOD 11-2 check character."""
    value = value.strip().upper()
    # isascii(): str.isdigit() also accepts full-width and superscript digits.
    if len(value) != 18 or not (value[:17].isascii() and value[:17].isdigit()):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == value[17]


def _month(value: Any, label: str, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ApplicationError(f"请填写{label}。", code="required")
        return None
    try:
        year, month = str(value)[:7].split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ApplicationError(f"{label}格式应为 年-月（如 1985-07）。", code="invalid_date") from None


def position_create(
    *, actor: User | None, org_unit: OrgUnit, unit_name: str, title: str, rank_level: str, quota: int, filled: int = 0
) -> Position:
    if rank_level not in RankLevel.values:
        raise ApplicationError("职务层次不正确。", code="invalid_rank")
    if quota < 0 or filled < 0:
        raise ApplicationError("职数不能是负数。", code="invalid_quota")
    with transaction.atomic():
        position = Position.objects.create(
            org_unit=org_unit, unit_name=unit_name, title=title, rank_level=rank_level, quota=quota, filled=filled
        )
        event_append(
            fonds=org_unit.code,
            actor=actor,
            action="position.create",
            subject_type="position",
            subject_id=position.pk,
            payload={"name": str(position), "rank_level": rank_level, "quota": quota, "filled": filled},
        )
    return position


def cadre_create(*, actor: User | None, org_unit: OrgUnit, data: dict[str, Any]) -> Cadre:
    """Create a cadre from 干部任免审批表 fields (months as YYYY-MM, résumé as a list of lines)."""
    id_number = str(data.get("id_number", "")).strip()
    if id_number and not id_number_valid(id_number):
        raise ApplicationError("身份证号校验位不正确，请核对。", code="invalid_id_number")
    months = {
        key: _month(data.get(key), label, required=key != "party_join_month")
        for key, label in (
            ("birth_month", "出生年月"),
            ("party_join_month", "入党时间"),
            ("work_start_month", "参加工作时间"),
            ("current_post_since", "任现职时间"),
            ("current_rank_since", "任现职级时间"),
        )
    }
    if data.get("current_rank") not in RankLevel.values:
        raise ApplicationError("现任职级不正确。", code="invalid_rank")
    resume = data.get("resume", "")
    plain = {
        k: data.get(k, "")
        for k in (
            "name",
            "sex",
            "ethnicity",
            "native_place",
            "birthplace",
            "party_status",
            "health",
            "fulltime_education",
            "fulltime_degree",
            "fulltime_school_major",
            "inservice_education",
            "inservice_degree",
            "inservice_school_major",
            "professional_title",
            "expertise",
            "rewards_punishments",
            "annual_appraisals",
            "current_post",
            "current_rank",
        )
    }
    with transaction.atomic():
        cadre = Cadre(
            org_unit=org_unit,
            resume="\n".join(resume) if isinstance(resume, list) else str(resume),
            grassroots_months=int(data.get("grassroots_months") or 0),
            training_hours_5y=int(data.get("training_hours_5y") or 0),
            **plain,
            **months,
        )
        cadre.set_id_number(id_number)
        try:
            cadre.full_clean(exclude=["org_unit", "id_number_encrypted", "id_number_hash"])
        except ValidationError as exc:
            fields = {
                getattr(Cadre._meta.get_field(k), "verbose_name", k): v
                for k, v in exc.message_dict.items()
                if k != "__all__"
            }
            detail = "；".join(f"{k}：{'，'.join(v)}" for k, v in fields.items())
            raise ApplicationError(f"干部信息有误：{detail}", code="invalid_cadre") from None
        cadre.save()
        for member in data.get("family", []):
            FamilyMember.objects.create(
                cadre=cadre,
                relation=member["relation"],
                name=member["name"],
                birth_month=_month(member.get("birth_month"), "家庭成员出生年月", required=False),
                political_status=member.get("political_status", ""),
                work_unit_position=member.get("work_unit_position", ""),
            )
        event_append(
            fonds=org_unit.code,
            actor=actor,
            action="cadre.create",
            subject_type="cadre",
            subject_id=cadre.pk,
            payload={"name": cadre.name, "current_post": cadre.current_post, "id_number_hash": cadre.id_number_hash},
        )
    return cadre
