"""Start-up self-check (自检): the things an intranet deployment gets wrong that the application would
otherwise only discover later — at the first checkpoint, the first signed PDF, the first deadline.

Each check returns Chinese problem strings (empty = fine) or raises ``Skipped``. ``manage.py selfcheck``
runs them all (systemd runs it before starting the service and refuses to start on a fatal problem);
the WSGI application runs the cheap ``quick`` subset at import in production and prints what it finds.
Warnings (``fatal=False``) are printed but do not stop the service: a year's holiday schedule is published
late in the previous year and can only be entered through the running application.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TextIO

from django.conf import settings
from django.core import checks as django_checks
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from jishi.accounts.models import OrgUnit
from jishi.core import crypto
from jishi.documents import pades
from jishi.ledger.dbroles import privileged_connection_problem
from jishi.ledger.models import SystemKey
from jishi.supervision.calendar import library_covers
from jishi.supervision.models import WorkdayOverride

SECRETS = (
    ("JISHI_SECRET_KEY", "SECRET_KEY"),
    ("JISHI_FIELD_KEY", "FIELD_ENCRYPTION_KEY"),
    ("JISHI_DOCUMENT_CERT_PASSPHRASE", "DOCUMENT_CERT_PASSPHRASE"),
)
# Django itself redirects to HTTPS and sends Strict-Transport-Security in production (settings "Hardening"),
# so every deployment warning counts: this check and `manage.py check --deploy` agree.
DEPLOY_HINTS = {
    "security.W004": "设置 JISHI_HSTS_SECONDS（生产环境默认 31536000，即一年）",
    "security.W008": "设置 JISHI_SSL_REDIRECT=true（生产环境默认）",
    "security.W012": "设置 JISHI_SECURE_COOKIES=true（通过 HTTPS 访问时）",
    "security.W016": "设置 JISHI_SECURE_COOKIES=true（通过 HTTPS 访问时）",
    "security.W018": "设置 JISHI_DEBUG=false",
    "security.W020": "在 JISHI_ALLOWED_HOSTS 中填写访问用的域名或 IP",
    "security.W009": "JISHI_SECRET_KEY 应为至少 50 个字符的随机串",
}


class Skipped(Exception):
    """The check does not apply here (development, SQLite …); the message says why."""


def _production() -> bool:
    return str(getattr(settings, "JISHI_ENV", "")) == "production"


def database() -> list[str]:
    connection.ensure_connection()
    return []


def database_role() -> list[str]:
    if not _production():
        raise Skipped("非生产环境")
    if connection.vendor != "postgresql":
        raise Skipped("SQLite 没有数据库角色，由触发器保护台账")
    problem = privileged_connection_problem(connection)
    return [problem] if problem else []


def secrets() -> list[str]:
    problems = []
    for env, name in SECRETS:
        if not str(getattr(settings, name, "")):
            problems.append(f"{env} 为空：请在环境文件中设置。")
        elif _production() and not os.environ.get(env):
            problems.append(f"生产环境必须在环境文件中设置 {env}，不能使用开发环境生成的密钥。")
    if _production() and len(set(str(settings.FIELD_ENCRYPTION_KEY))) < 16:
        problems.append("JISHI_FIELD_KEY 过于简单：请用 32 字节的随机值（见 deploy/jishi.env.example）。")
    if settings.MATERIAL_STORAGE == "s3":
        materials = settings.STORAGES["materials"]
        options = materials.get("OPTIONS") if isinstance(materials, dict) else None
        if not isinstance(options, dict) or not (options.get("access_key") and options.get("secret_key")):
            problems.append("材料存储为 s3，但 JISHI_S3_ACCESS_KEY 或 JISHI_S3_SECRET_KEY 为空。")
    return problems


def unit_keys_present() -> list[str]:
    """Every org unit (全宗) has its system key (signs checkpoints) and document certificate (signs PDFs)."""
    units = list(OrgUnit.objects.order_by("code").values_list("code", "name"))
    if not units:
        return ["数据库中还没有组织机构（全宗）：请先运行 python manage.py bootstrap。"]
    with_key = set(SystemKey.objects.values_list("fonds", flat=True))
    problems = []
    for code, name in units:
        if code not in with_key:
            problems.append(f"{name}（{code}）没有单位系统密钥：检查点无法签名。请从备份恢复数据库。")
        path = pades.cert_path(code)
        if not path.exists():
            problems.append(
                f"{name}（{code}）没有文书签章证书 {path}："
                f"请运行 python manage.py documents cert-import --fonds {code} 文件.p12"
            )
    return problems


def unit_keys_usable() -> list[str]:
    """The keys and certificates that exist open with this server's JISHI_FIELD_KEY and
    JISHI_DOCUMENT_CERT_PASSPHRASE — the usual mistake after restoring onto a new server."""
    units = dict(OrgUnit.objects.values_list("code", "name"))
    if not units:
        raise Skipped("还没有组织机构")
    problems = []
    for code, sealed in (
        SystemKey.objects.filter(fonds__in=units).order_by("fonds").values_list("fonds", "sealed_private_key")
    ):
        try:
            crypto.decrypt(sealed)
        except Exception:
            problems.append(
                f"{units[code]}（{code}）的单位系统密钥无法用当前 JISHI_FIELD_KEY 解开：请使用与数据库配套的密钥。"
            )
    for code in sorted(units):
        path = pades.cert_path(code)
        if path.exists():
            try:
                pades.certificate(code)
            except Exception:
                problems.append(
                    f"{units[code]}（{code}）的文书签章证书 {path} 无法用当前 JISHI_DOCUMENT_CERT_PASSPHRASE 打开。"
                )
    return problems


def calendar_year(offset: int, today: dt.date | None = None) -> list[str]:
    """The year (this one, or the next) has official holiday data, or administrators entered its days."""
    year = (today or timezone.localdate()).year + offset
    if library_covers(year) or WorkdayOverride.objects.filter(day__year=year).exists():
        return []
    return [
        f"{year} 年的法定节假日安排不在 chinese-calendar 数据中，也没有录入工作日调整：工作日暂按周一至周五计算。"
        "请在国务院办公厅公布后到「工作日历」页面录入，或升级到包含该年数据的版本。"
    ]


def migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return []
    names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5]) + (" …" if len(plan) > 5 else "")
    return [f"有 {len(plan)} 个数据库迁移尚未执行（{names}）：请以属主角色运行 python manage.py migrate。"]


def deploy_checks() -> list[str]:
    """Django's ``check --deploy``, warnings included (silenced ones: settings.SILENCED_SYSTEM_CHECKS)."""
    if not _production():
        raise Skipped("非生产环境")
    messages = django_checks.run_checks(include_deployment_checks=True)
    problems = []
    for m in messages:
        if m.level < django_checks.WARNING or m.is_silenced():
            continue
        hint = DEPLOY_HINTS.get(m.id or "", "")
        problems.append(f"Django 部署检查 {m.id}：{m.msg}" + (f" —— {hint}" if hint else ""))
    return problems


@dataclass(frozen=True)
class Check:
    title: str
    run: Callable[[], list[str]]
    fatal: bool = True  # a problem stops the service; otherwise a warning
    quick: bool = False  # part of the subset the WSGI application runs at start-up
    needs_db: bool = True


CHECKS = (
    Check("数据库连接", database, quick=True),
    Check("数据库角色（不是属主或超级用户）", database_role, quick=True),
    Check("密钥与口令已配置", secrets, quick=True, needs_db=False),
    Check("数据库迁移已全部执行", migrations, quick=True),
    Check("单位系统密钥与文书签章证书齐全", unit_keys_present, quick=True),
    Check("单位密钥与证书能用当前密钥打开", unit_keys_usable),
    Check("今年的工作日历", partial(calendar_year, 0), fatal=False, quick=True),
    Check("明年的工作日历", partial(calendar_year, 1), fatal=False, quick=True),
    Check("Django 部署检查（check --deploy）", deploy_checks, needs_db=False),
)


@dataclass(frozen=True)
class Outcome:
    check: Check
    problems: list[str]
    skipped: str = ""

    @property
    def mark(self) -> str:
        if self.skipped or not self.problems:
            return "✔"
        return "✘" if self.check.fatal else "⚠"


def run(*, quick: bool = False) -> list[Outcome]:
    """Run the checks in order; an exception is itself a problem, and once the database is unreachable
    the checks that need it are skipped rather than repeating the same error."""
    outcomes = []
    database_down = False
    for check in CHECKS:
        if quick and not check.quick:
            continue
        if check.needs_db and database_down:
            outcomes.append(Outcome(check, [], skipped="数据库不可用，未检查"))
            continue
        try:
            outcomes.append(Outcome(check, check.run()))
        except Skipped as skip:
            outcomes.append(Outcome(check, [], skipped=str(skip)))
        except Exception as exc:
            outcomes.append(Outcome(check, [f"检查时出错：{type(exc).__name__}: {exc}"]))
            database_down = database_down or check.run is database
    return outcomes


def fatal_count(outcomes: list[Outcome]) -> int:
    return sum(len(o.problems) for o in outcomes if o.check.fatal and not o.skipped)


def report_at_startup(stream: TextIO = sys.stderr) -> int:
    """The quick subset, printed to the service log; returns the number of fatal problems. The service
    still starts (systemd's ExecStartPre has already refused on fatal ones); this catches a server
    started some other way."""
    outcomes = run(quick=True)
    for o in outcomes:
        for problem in o.problems:
            stream.write(f"纪实系统自检 {o.mark} {o.check.title}：{problem}\n")
    stream.flush()
    return fatal_count(outcomes)
