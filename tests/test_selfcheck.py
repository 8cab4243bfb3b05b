"""The deployment self-check: each item finds the mistake it is for, ``manage.py selfcheck`` exits 1 on a
fatal problem (systemd's ExecStartPre relies on that), and production WSGI start-up prints the quick subset."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from jishi.accounts.models import OrgUnit
from jishi.core.testing import World
from jishi.ops import selfcheck
from jishi.supervision.models import WorkdayOverride

ROOT = Path(__file__).resolve().parent.parent


def _cover_calendar(world: World) -> None:
    """Overrides for this year and next, so the outcome does not depend on the date the suite runs."""
    year = timezone.localdate().year
    for y in (year, year + 1):
        WorkdayOverride.objects.create(
            day=dt.date(y, 10, 8), is_working_day=False, note="测试", created_by=world.sam, created_at=timezone.now()
        )


def test_units_with_system_keys_and_certificates_pass_both_key_checks(world: World):
    assert selfcheck.unit_keys_present() == []
    assert selfcheck.unit_keys_usable() == []


def test_a_unit_without_a_document_certificate_is_named_with_the_import_command(world: World, settings, tmp_path):
    settings.DOCUMENT_CERT_DIR = tmp_path
    problems = selfcheck.unit_keys_present()
    assert len(problems) == 2
    assert "（J001）没有文书签章证书" in problems[0]
    assert "documents cert-import --fonds J001" in problems[0]


def test_a_field_key_other_than_the_one_that_sealed_the_system_keys_is_reported(world: World, settings):
    settings.FIELD_ENCRYPTION_KEY = "a-different-server-key"
    problems = selfcheck.unit_keys_usable()
    assert [p for p in problems if "JISHI_FIELD_KEY" in p and "J001" in p]
    assert selfcheck.unit_keys_present() == []  # present, just not openable


def test_a_wrong_certificate_passphrase_is_reported(world: World, settings):
    settings.DOCUMENT_CERT_PASSPHRASE = "not-the-passphrase"
    problems = selfcheck.unit_keys_usable()
    assert len([p for p in problems if "JISHI_DOCUMENT_CERT_PASSPHRASE" in p]) == 2


@pytest.mark.django_db
def test_an_empty_database_asks_for_bootstrap():
    assert OrgUnit.objects.count() == 0
    assert selfcheck.unit_keys_present() == ["数据库中还没有组织机构（全宗）：请先运行 python manage.py bootstrap。"]
    with pytest.raises(selfcheck.Skipped):
        selfcheck.unit_keys_usable()


def test_a_year_without_holiday_data_or_overrides_is_a_problem_until_an_override_is_entered(world: World):
    assert selfcheck.calendar_year(0, today=dt.date(2025, 6, 1)) == []  # chinese-calendar covers 2025
    problems = selfcheck.calendar_year(1, today=dt.date(2098, 6, 1))
    assert len(problems) == 1 and "2099 年" in problems[0]
    WorkdayOverride.objects.create(
        day=dt.date(2099, 1, 1), is_working_day=False, note="元旦", created_by=world.sam, created_at=timezone.now()
    )
    assert selfcheck.calendar_year(1, today=dt.date(2098, 6, 1)) == []


@pytest.mark.django_db
def test_an_unapplied_migration_is_named():
    assert selfcheck.migrations() == []
    MigrationRecorder(connection).record_unapplied("api", "0001_initial")
    problems = selfcheck.migrations()
    assert len(problems) == 1 and "api.0001_initial" in problems[0] and "manage.py migrate" in problems[0]


def test_secrets_missing_from_the_production_environment_are_named(settings, monkeypatch):
    settings.JISHI_ENV = "production"
    for env, _ in selfcheck.SECRETS:
        monkeypatch.setenv(env, "x" * 40)
    monkeypatch.delenv("JISHI_FIELD_KEY")
    settings.DOCUMENT_CERT_PASSPHRASE = ""
    problems = selfcheck.secrets()
    assert "JISHI_DOCUMENT_CERT_PASSPHRASE 为空：请在环境文件中设置。" in problems
    assert any("必须在环境文件中设置 JISHI_FIELD_KEY" in p for p in problems)


def test_a_weak_field_key_and_s3_without_credentials_are_reported(settings, monkeypatch):
    settings.JISHI_ENV = "production"
    for env, _ in selfcheck.SECRETS:
        monkeypatch.setenv(env, "set")
    settings.FIELD_ENCRYPTION_KEY = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    settings.MATERIAL_STORAGE = "s3"
    settings.STORAGES = {**settings.STORAGES, "materials": {"BACKEND": "x", "OPTIONS": {"access_key": "k"}}}
    problems = selfcheck.secrets()
    assert any("JISHI_FIELD_KEY 过于简单" in p for p in problems)
    assert any("JISHI_S3_SECRET_KEY" in p for p in problems)


def test_development_secrets_are_fine_outside_production(settings):
    assert settings.JISHI_ENV != "production"
    assert selfcheck.secrets() == []


@pytest.mark.django_db
def test_the_database_role_check_applies_only_to_production_postgresql(settings):
    with pytest.raises(selfcheck.Skipped, match="非生产环境"):
        selfcheck.database_role()
    settings.JISHI_ENV = "production"
    if connection.vendor != "postgresql":
        with pytest.raises(selfcheck.Skipped, match="SQLite"):
            selfcheck.database_role()
        return
    # The suite connects as a superuser (or the owner): exactly what production must refuse.
    assert "生产环境" in selfcheck.database_role()[0]


def test_deploy_checks_report_insecure_cookies_and_a_missing_https_redirect_with_the_setting_to_change(settings):
    settings.JISHI_ENV = "production"
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["jishi.zzb.intranet"]
    settings.SECRET_KEY = "k" + "".join(chr(48 + i % 60) for i in range(60))
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    problems = selfcheck.deploy_checks()
    assert [p for p in problems if "security.W012" in p and "JISHI_SECURE_COOKIES=true" in p]
    assert [p for p in problems if "security.W008" in p and "JISHI_SSL_REDIRECT=true" in p]
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = settings.SECURE_SSL_REDIRECT = True
    assert selfcheck.deploy_checks() == []


def test_the_command_passes_on_a_complete_installation_printing_a_tick_per_item(world: World):
    _cover_calendar(world)
    out = io.StringIO()
    call_command("selfcheck", stdout=out)
    text = out.getvalue()
    assert "✔ 单位系统密钥与文书签章证书齐全" in text
    assert "✔ 数据库迁移已全部执行" in text
    assert "✘" not in text and "⚠" not in text
    assert text.rstrip().endswith("自检通过。")


def test_a_missing_next_year_calendar_is_a_warning_that_does_not_fail_the_command(world: World, monkeypatch):
    monkeypatch.setattr(selfcheck, "library_covers", lambda year: year == timezone.localdate().year)
    out = io.StringIO()
    call_command("selfcheck", stdout=out)
    assert "⚠ 明年的工作日历" in out.getvalue()
    assert "另有 1 条提醒" in out.getvalue()


def test_the_command_fails_naming_the_problem_when_a_certificate_is_missing(world: World, settings, tmp_path):
    _cover_calendar(world)
    settings.DOCUMENT_CERT_DIR = tmp_path
    out = io.StringIO()
    with pytest.raises(CommandError, match="自检未通过：2 个问题"):
        call_command("selfcheck", stdout=out)
    assert "✘ 单位系统密钥与文书签章证书齐全" in out.getvalue()


@pytest.mark.django_db
def test_an_unreachable_database_is_one_problem_and_the_checks_needing_it_are_skipped(monkeypatch):
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    outcomes = {o.check.title: o for o in selfcheck.run(quick=True)}
    assert outcomes["数据库连接"].problems == ["检查时出错：OperationalError: connection refused"]
    assert outcomes["数据库迁移已全部执行"].skipped == "数据库不可用，未检查"
    assert outcomes["单位系统密钥与文书签章证书齐全"].skipped == "数据库不可用，未检查"
    assert outcomes["密钥与口令已配置"].skipped == ""  # needs no database
    assert selfcheck.fatal_count(list(outcomes.values())) == 1


def _fresh_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A server on an empty SQLite database under tmp_path (never the suite's or anyone's var/)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "JISHI_SQLITE_PATH", "JISHI_MEDIA_ROOT")}
    return {**env, "JISHI_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "jishi.settings", **extra}


def test_the_command_exits_1_on_an_unmigrated_database_as_systemd_expects(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "manage.py", "selfcheck", "--quick"],
        cwd=ROOT,
        env=_fresh_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "✘ 数据库迁移已全部执行" in result.stdout
    assert "自检未通过" in result.stderr


def test_production_wsgi_start_up_prints_the_quick_problems_and_still_loads(tmp_path: Path):
    secrets = {env: "s" + "".join(chr(65 + i % 26) for i in range(60)) for env, _ in selfcheck.SECRETS}
    result = subprocess.run(
        [sys.executable, "-c", "import jishi.wsgi; print(callable(jishi.wsgi.application))"],
        cwd=ROOT,
        env=_fresh_env(tmp_path, JISHI_ENV="production", **secrets),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "True"
    assert "纪实系统自检 ✘ 数据库迁移已全部执行" in result.stderr


def _template() -> dict[str, str]:
    """deploy/jishi.env.example as systemd reads it: KEY=VALUE lines, surrounding quotes removed."""
    values = {}
    for line in (ROOT / "deploy" / "jishi.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


def test_the_production_env_template_names_every_variable_the_settings_read():
    text = (ROOT / "deploy" / "jishi.env.example").read_text(encoding="utf-8")
    settings_text = (ROOT / "jishi" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'"((?:JISHI_[A-Z0-9_]+)|DATABASE_URL)"', settings_text))
    assert len(read) > 30
    assert sorted(v for v in read if v not in text) == []
    # settings.py takes an empty path variable for "." rather than its default: the template must not set one so.
    paths = ("JISHI_VAR_DIR", "JISHI_MEDIA_ROOT", "JISHI_SQLITE_PATH", "JISHI_DOCUMENT_CERT_DIR")
    assert [k for k in paths if _template().get(k, "unset") == ""] == []


def test_the_production_env_template_filled_with_secrets_passes_the_deploy_checks(tmp_path: Path):
    values = {k: v for k, v in _template().items() if k != "DATABASE_URL"}
    for env, _ in selfcheck.SECRETS:
        values[env] = "t" + "".join(chr(65 + (i * 7) % 26) for i in range(60))
    values["JISHI_VAR_DIR"] = str(tmp_path)
    script = "import django; django.setup(); from jishi.ops import selfcheck; print(selfcheck.deploy_checks())"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_fresh_env(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
