"""manage.py bootstrap — the first organization department and its administrators on a new server.

三权分立: the system administrator (default `--role sysadmin`) creates accounts but cannot grant roles, so the
first 安全管理员 (`--role secadmin`, grants roles) and 安全审计员 (`--role auditor`) are made here too, by
running the command once per role.

The offline installer (deploy/install.sh) runs it after every install and upgrade, so it must be idempotent:
what exists is left as it is (never renamed, never given a new password), what is missing is created through
the same services the web UI uses, so the unit's hash chain records the creation like any other act.
The password never appears on a command line (where `ps` would show it): it comes from JISHI_ADMIN_PASSWORD
or an interactive prompt that does not echo.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.accounts.services import org_unit_create, role_grant, user_create
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import ROLE_LABELS, Role

PASSWORD_ENV = "JISHI_ADMIN_PASSWORD"
ADMIN_ROLES_ORDER = (Role.SYSADMIN, Role.SECADMIN, Role.AUDITOR)
PROMPT_TRIES = 3


class Command(BaseCommand):
    help = (
        "初始化：创建组织部门（全宗及其台账链）和第一位管理员（系统管理员，或以 --role 指定的安全管理员、"
        "安全审计员）；已存在的不作改动，可重复运行。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit-name", required=True, help="组织部门名称，如 某某市委组织部")
        parser.add_argument("--fonds", required=True, help="全宗号，如 J001（创建后不能更改）")
        parser.add_argument("--short-name", default="", help="简称（可选）")
        parser.add_argument("--admin", required=True, help="管理员的登录名")
        parser.add_argument("--full-name", default="", help="管理员的姓名（可选）")
        parser.add_argument(
            "--role",
            choices=[r.value for r in ADMIN_ROLES_ORDER],
            default=Role.SYSADMIN.value,
            help="sysadmin 系统管理员（默认）、secadmin 安全管理员、auditor 安全审计员：三者须为不同的人",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code, username = options["fonds"].strip(), options["admin"].strip()
        if not code or not username or not options["unit_name"].strip():
            raise CommandError("组织部门名称、全宗号和管理员登录名都必须填写。")
        unit = OrgUnit.objects.filter(code=code).first()
        user = User.objects.filter(username=username).first()
        # Ask for (and check) the password before writing anything: a refused password leaves no half-made unit.
        password = self._password(username, options["full_name"]) if user is None else ""
        try:
            with transaction.atomic():
                unit = self._unit(unit, code, options)
                role = Role(options["role"])
                user = self._user(user, unit, username, options["full_name"], password, role)
                self._role(user, unit, role)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _unit(self, unit: OrgUnit | None, code: str, options: dict[str, Any]) -> OrgUnit:
        name = options["unit_name"].strip()
        if unit is not None:
            note = "" if unit.name == name else f"（现名“{unit.name}”，未改名）"
            self.stdout.write(f"组织部门 {code} 已存在{note}，未改动。")
            return unit
        unit = org_unit_create(actor=None, code=code, name=name, short_name=options["short_name"])
        self.stdout.write(self.style.SUCCESS(f"已创建组织部门 {unit.name}（全宗号 {code}）及其台账链。"))
        return unit

    def _user(self, user: User | None, unit: OrgUnit, username: str, full_name: str, password: str, role: Role) -> User:
        if user is not None:
            self.stdout.write(f"账号 {username} 已存在，未改动（口令不变）。")
            if not user.is_active:
                self.stderr.write(self.style.WARNING(f"注意：账号 {username} 已停用，需由其他系统管理员重新启用。"))
            return user
        user = user_create(
            actor=None,
            org_unit=unit,
            username=username,
            full_name=full_name,
            title=ROLE_LABELS[role],
            password=password,
        )
        self.stdout.write(self.style.SUCCESS(f"已创建账号 {username}。"))
        return user

    def _role(self, user: User, unit: OrgUnit, role: Role) -> None:
        label = ROLE_LABELS[role]
        held = RoleAssignment.objects.filter(user=user, org_unit=unit, role=role.value).exists()
        if held:
            self.stdout.write(f"{user.username} 已是 {unit.name} 的{label}。")
            return
        role_grant(actor=None, user=user, org_unit=unit, role=role)
        self.stdout.write(self.style.SUCCESS(f"已授予 {user.username} {unit.name} {label}角色。"))

    def _password(self, username: str, full_name: str) -> str:
        """From the environment (installer, scripts) or a non-echoing prompt; checked by the site's validators."""
        candidate = User(username=username, full_name=full_name)
        from_env = os.environ.get(PASSWORD_ENV)
        if from_env is not None:
            problem = _problem(from_env, candidate)
            if problem:
                raise CommandError(f"环境变量 {PASSWORD_ENV} 中的管理员口令不符合要求：{problem}")
            return from_env
        if not sys.stdin.isatty():
            raise CommandError(
                f"需要为新账号 {username} 设置口令：请设置环境变量 {PASSWORD_ENV}，或在终端中运行以便输入。"
            )
        for _ in range(PROMPT_TRIES):
            first = getpass.getpass(f"为管理员 {username} 设置登录口令（输入时不显示）：")
            if first != getpass.getpass("再输入一遍："):
                self.stderr.write("两次输入不一致，请重新输入。")
                continue
            problem = _problem(first, candidate)
            if not problem:
                return first
            self.stderr.write(f"口令不符合要求：{problem}")
        raise CommandError("未能设置管理员口令，什么也没有创建。请重新运行。")


def _problem(password: str, user: User) -> str:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return "；".join(str(message) for message in exc.messages)
    return ""
