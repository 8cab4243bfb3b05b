"""Demo data for `make run`: 内江市委组织部 and two county departments, ~30 cadres, users for
every role, one finished batch and one batch part-way through 考察. All people are fictional."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jishi.accounts.keys import signing_key_enrol
from jishi.accounts.models import OrgUnit, User
from jishi.accounts.otp import otp_device_install
from jishi.accounts.services import org_unit_create, role_grant, user_create
from jishi.cadres.models import Cadre, Position
from jishi.cadres.services import cadre_create, position_create
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import ADMIN_ROLES, ROLE_LABELS, Role
from jishi.procedures.loader import bundled_path, load_file
from jishi.procedures.services import procedure_version_register

from .models import Batch
from .services import batch_create, nomination_add, nomination_drop, step_start, step_waive
from .walk import walk, walk_step

DEMO_PASSWORD = "Jishi-Demo-2026"  # passes the 等保 password policy
# Every demo user's TOTP key (base32), printed by demo_seed: add it to an authenticator app, or use
# `manage.py otp_code USERNAME` (development only). A demo, never a way to enrol real users.
DEMO_OTP_SECRET = "JISHIDEMOTOTPKEYFORTRIALUSE23456"
DEMO_PIN = "739146"  # signing PIN (签名口令) of every demo user
CADRES_FILE = Path(__file__).resolve().parent.parent / "cadres" / "demo" / "cadres.yaml"

UNITS = [
    ("J001", "中共内江市委组织部", "内江市委组织部", None),
    ("J002", "中共威远县委组织部", "威远县委组织部", "J001"),
    ("J003", "中共资中县委组织部", "资中县委组织部", "J001"),
]

# (username, full name, title, unit, roles)
USERS: list[tuple[str, str, str, str, list[Role]]] = [
    ("nj_clerk", "李晓红", "干部一科科员", "J001", [Role.CLERK]),
    ("nj_head", "王建国", "干部一科科长", "J001", [Role.SECTION_HEAD]),
    ("nj_leader", "陈志远", "市委组织部副部长", "J001", [Role.DEPT_LEADER, Role.DEPT_COMMITTEE]),
    ("nj_committee", "赵丽华", "部务会成员、办公室主任", "J001", [Role.DEPT_COMMITTEE]),
    ("nj_party", "孙明德", "市委常委", "J001", [Role.PARTY_COMMITTEE]),
    ("nj_discipline", "周正清", "市纪委监委干部室主任", "J001", [Role.DISCIPLINE]),
    ("nj_supervision", "吴敏", "干部监督科科长", "J001", [Role.SUPERVISION]),
    ("nj_archivist", "郑文静", "档案室管理员", "J001", [Role.ARCHIVIST]),
    ("nj_admin", "冯启航", "信息中心工程师", "J001", [Role.SYSADMIN]),
    ("nj_security", "宋安宁", "信息中心安全管理员", "J001", [Role.SECADMIN]),
    ("nj_auditor", "江审言", "机关纪委安全审计员", "J001", [Role.AUDITOR]),
    ("wy_clerk", "黄小梅", "威远县委组织部干部股干事", "J002", [Role.CLERK]),
    ("wy_head", "刘德明", "威远县委组织部干部股股长", "J002", [Role.SECTION_HEAD]),
    ("wy_leader", "杨光辉", "威远县委组织部副部长", "J002", [Role.DEPT_LEADER]),
    ("wy_discipline", "何清源", "威远县纪委监委干部室主任", "J002", [Role.DISCIPLINE]),
    ("wy_supervision", "林静", "威远县委组织部干部监督股股长", "J002", [Role.SUPERVISION]),
    ("wy_archivist", "罗晓燕", "威远县委组织部档案员", "J002", [Role.ARCHIVIST]),
    ("zz_clerk", "邓春燕", "资中县委组织部干部股干事", "J003", [Role.CLERK]),
    ("zz_head", "谢国强", "资中县委组织部干部股股长", "J003", [Role.SECTION_HEAD]),
    ("zz_leader", "许文斌", "资中县委组织部副部长", "J003", [Role.DEPT_LEADER]),
]


def demo_exists() -> bool:
    return OrgUnit.objects.filter(code="J001").exists()


def signers_for(unit: OrgUnit) -> dict[str, User]:
    """One user per role in the unit; roles the county has no separate holder for fall back to the head."""
    result: dict[str, User] = {}
    for ra in unit.role_assignments.select_related("user").order_by("id"):
        result.setdefault(ra.role, ra.user)
    fallback = result.get(Role.SECTION_HEAD)
    for role in Role:
        if role not in result and fallback is not None and role not in ADMIN_ROLES:
            result[role] = fallback
    return result


def seed(progress: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Create the demo; returns the logins. Refuses to run twice."""
    progress("载入标准流程定义 …")
    procedure_version_register(loaded=load_file(bundled_path("standard")), actor=None)
    progress("创建组织机构和演示用户 …")
    units: dict[str, OrgUnit] = {}
    for code, name, short, parent in UNITS:
        units[code] = org_unit_create(
            actor=None, code=code, name=name, short_name=short, parent=units.get(parent) if parent else None
        )
    for username, full_name, title, unit, roles in USERS:
        user = user_create(
            actor=None,
            org_unit=units[unit],
            username=username,
            full_name=full_name,
            title=title,
            password=DEMO_PASSWORD,
        )
        for role in roles:
            role_grant(actor=None, user=user, org_unit=units[unit], role=role)
        signing_key_enrol(user=user, pin=DEMO_PIN)
        otp_device_install(user=user, secret_base32=DEMO_OTP_SECRET)
    progress("载入干部信息和职位职数 …")
    data = yaml.safe_load(CADRES_FILE.read_text(encoding="utf-8"))
    for p in data["positions"]:
        position_create(
            actor=None,
            org_unit=units[p["org_unit"]],
            unit_name=p["unit_name"],
            title=p["title"],
            rank_level=p["rank_level"],
            quota=p["quota"],
            filled=p["filled"],
        )
    for c in data["cadres"]:
        cadre_create(actor=None, org_unit=units[c["org_unit"]], data=c)
    city = units["J001"]
    clerk = User.objects.get(username="nj_clerk")
    signers = signers_for(city)
    positions = list(Position.objects.filter(org_unit=city, filled__lt=F("quota")).order_by("id"))
    cadres = list(Cadre.objects.filter(org_unit=city).order_by("id"))

    progress("办理一个已完成的调整批次（44 个步骤）…")
    with transaction.atomic():
        done = batch_create(
            actor=clerk,
            org_unit=city,
            title="2026年第一批市管干部调整",
            positions=positions[:1],
            reason="市发展改革委副主任职位空缺，按干部管理权限启动选拔。",
        )
        nomination_add(actor=clerk, batch=done, cadre=cadres[0], position=positions[0])
        second = nomination_add(actor=clerk, batch=done, cadre=cadres[1], position=positions[0])
    walk(batch=done, actor=clerk, signers=signers, pin=DEMO_PIN, stop=lambda step_id, n: step_id == "K01")
    nomination_drop(actor=clerk, nomination=second, reason="经部务会研究，未确定为考察对象（差额推荐未入选）。")
    walk(batch=done, actor=clerk, signers=signers, pin=DEMO_PIN, stop=lambda step_id, n: step_id in ("Y03", "Y04"))
    leader = User.objects.get(username="nj_leader")
    appointed = done.nominations.get(status="active")
    step_waive(
        pin=DEMO_PIN,
        actor=leader,
        batch=done,
        step_id="Y03",
        nomination=appointed,
        reason="拟任人选为中共党员，不适用本步骤",
        legal_basis="2014《条例》第三十四条第三款（非中共党员拟任人选征求统战部门意见）",
    )
    step_waive(
        pin=DEMO_PIN,
        actor=leader,
        batch=done,
        step_id="Y04",
        nomination=appointed,
        reason="拟任职位不属于双重管理职位",
        legal_basis="2014《条例》第三十四条第四款（双重管理干部征求协管方意见）",
    )
    walk(batch=done, actor=clerk, signers=signers, pin=DEMO_PIN)

    progress("办理一个进行到考察环节的调整批次 …")
    with transaction.atomic():
        running = batch_create(
            actor=clerk,
            org_unit=city,
            title="2026年第二批市管干部调整",
            positions=positions[1:3],
            reason="两个市直部门副职空缺，统筹调整。",
        )
        for cadre, position in zip(cadres[2:5], [positions[1], positions[1], positions[2]], strict=True):
            nomination_add(actor=clerk, batch=running, cadre=cadre, position=position)
    definition = running.procedure.definition
    before_kaocha = {s.id for stage in definition.stages[:2] for s in stage.steps} | {"K01", "K02", "K03"}
    first = running.nominations.order_by("id").first()

    def stop(step_id: str, nomination: object) -> bool:
        return step_id not in before_kaocha and not (nomination == first and step_id in ("K04", "K05"))

    walk(batch=running, actor=clerk, signers=signers, pin=DEMO_PIN, stop=stop)

    noticed = _seed_notice_batch(clerk, city, positions, cadres, signers, progress)
    blocked = _seed_key_post_batch(clerk, city, positions, cadres, signers, progress)
    progress("巡检全部批次，生成预警 …")
    from jishi.supervision.checks import scan

    report = scan()
    progress(f"  预警 {len(report.raised)} 条")
    return {"password": DEMO_PASSWORD, "users": USERS, "batches": [done, running, noticed, blocked]}


def _seed_notice_batch(
    clerk: User,
    city: OrgUnit,
    positions: list[Position],
    cadres: list[Cadre],
    signers: dict[str, User],
    progress: Callable[[str], None],
) -> Batch:
    """A batch in its 任前公示 now, with one report from the public waiting to be checked (W30)."""
    from jishi.supervision.services import feedback_submit

    progress("办理一个正在任前公示的调整批次（含一件群众反映）…")
    with transaction.atomic():
        batch = batch_create(
            actor=clerk,
            org_unit=city,
            title="2026年第三批市管干部调整",
            positions=positions[3:4],
            reason="资中县人民政府副县长职位空缺。",
        )
        for cadre in cadres[5:7]:
            nomination_add(actor=clerk, batch=batch, cadre=cadre, position=positions[3])
    walk(batch=batch, actor=clerk, signers=signers, pin=DEMO_PIN, stop=lambda step_id, n: step_id == "R01")
    # The notice runs from two days ago for three weeks, so the public page shows it today.
    walk_step(
        batch=batch,
        step_id="R01",
        nomination=None,
        actor=clerk,
        signers=signers,
        pin=DEMO_PIN,
        base=timezone.localdate() - dt.timedelta(days=2),
    )
    person = batch.nominations.filter(status="active").order_by("id").first()
    if person is not None:
        feedback_submit(
            nomination=person,
            content="反映该同志在任现职期间，分管领域一项工程招标程序不够规范，请组织核查。",
            contact="",
            source="demo-public-terminal",
        )
    return batch


def _seed_key_post_batch(
    clerk: User,
    city: OrgUnit,
    positions: list[Position],
    cadres: list[Cadre],
    signers: dict[str, User],
    progress: Callable[[str], None],
) -> Batch:
    """A key post (重要岗位) whose 民主推荐 cannot start until 干部监督 signs its review (KP01)."""
    from jishi.cadres.services import position_set_key_post

    progress("办理一个重要岗位动议（待干部监督审核）…")
    head = signers[Role.SECTION_HEAD]
    key = position_set_key_post(
        actor=head, position=positions[4], is_key_post=True, reason="农业农村部门主要负责人，资金项目集中。"
    )
    with transaction.atomic():
        batch = batch_create(
            actor=clerk,
            org_unit=city,
            title="2026年第四批市管干部调整（重要岗位）",
            positions=[key],
            reason="市农业农村局局长职位空缺。",
        )
        for cadre in cadres[7:9]:
            nomination_add(actor=clerk, batch=batch, cadre=cadre, position=key)
    walk(batch=batch, actor=clerk, signers=signers, pin=DEMO_PIN, stop=lambda step_id, n: step_id == "T01")
    with contextlib.suppress(ApplicationError):  # refused: the refusal stays as a blocking warning
        step_start(actor=clerk, batch=batch, step_id="T01")
    return batch


def describe_logins() -> list[str]:
    lines = []
    for username, full_name, _title, unit, roles in USERS:
        role_text = "、".join(ROLE_LABELS[r] for r in roles)
        lines.append(f"  {username:<16} {full_name}（{unit} {role_text}）")
    return lines


def batch_count() -> int:
    return Batch.objects.count()
