"""Backup and restore on SQLite: a backup restored into another, empty installation has the same chains,
materials and keys and verifies; a changed, missing or extra file, a wrong passphrase and a non-empty
target are refused before anything is written.

Why the source installation runs in a subprocess rather than on the ``world`` fixture: SQLite's online
backup API refuses to copy from a connection inside a write transaction — which every pytest-django test
is (BEGIN IMMEDIATE) — and ``transaction=True`` cannot flush the append-only ledger tables afterwards.
So the migrated, still empty test database is copied once, the world is built in it by a subprocess and
``manage.py backup`` runs there against a real WAL database file, as in production. Each restore runs in
its own subprocess with its own JISHI_VAR_DIR; refusals that come before the target is touched run here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jishi.core.testing import World
from jishi.ledger.models import Chain
from jishi.ops import backup_keys

# Every test here needs the test database set up — also when ``-k`` selects none that asks for ``db``,
# or the module fixture below would copy whatever database the settings name.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "correct-horse-battery-staple"
CONTENTS = ["%PDF-1.7 signed page", "%PDF-1.7 inspection report"]

# argv: backup directory, JSON list of material contents. Prints the chain heads as JSON.
SOURCE_SCRIPT = r"""
import json, sys
import django
django.setup()
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from jishi.core.testing import build_world
from jishi.ledger.models import Chain
from jishi.ops import backup_keys
from jishi.selection.services import batch_create, material_register, step_start
backup_keys.SCRYPT_N_LOG2 = 14  # the restore reads the cost from the archive header
world = build_world()
batch = batch_create(actor=world.alice, org_unit=world.city, title="2026年第三批市管干部调整",
                     positions=world.positions, reason="职位空缺")
record = step_start(actor=world.alice, batch=batch, step_id="D01")
for n, content in enumerate(json.loads(sys.argv[2])):
    material_register(actor=world.alice, record=record, item_id="I01", title=f"扫描件{n}",
                      upload=SimpleUploadedFile("扫描件.pdf", content.encode()))
call_command("backup", "-o", sys.argv[1])
print(json.dumps(list(Chain.objects.order_by("fonds").values_list("fonds", "seq", "head_hash"))))
"""


def installation_env(var: Path, **extra: str) -> dict[str, str]:
    """The environment of an installation whose data all lives under ``var`` (nothing inherited)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JISHI_") and k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="jishi.settings",
        JISHI_ENV="development",
        JISHI_VAR_DIR=str(var),
        JISHI_SQLITE_PATH=str(var / "jishi.sqlite3"),
        JISHI_MEDIA_ROOT=str(var / "materials"),
        JISHI_DOCUMENT_CERT_DIR=str(var / "certs"),
        JISHI_BACKUP_PASSPHRASE=PASSPHRASE,
        JISHI_SIGNING_SCRYPT_N_LOG2="10",
        JISHI_LEDGER_CHECKPOINT_EVERY="25",
    )
    env.update(extra)
    return env


def run_source(backup: Path, env: dict[str, str]) -> list[list[Any]]:
    """Build the world plus two materials in the installation of ``env`` and back it up; the chain heads."""
    result = subprocess.run(
        [sys.executable, "-c", SOURCE_SCRIPT, str(backup), json.dumps(CONTENTS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "备份完成" in result.stdout
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_restore(backup: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # The system checks are the project's, not the restore's, and cost seconds per process.
        [sys.executable, "manage.py", "restore", "--skip-checks", str(backup)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def material_names() -> list[str]:
    return sorted(hashlib.sha256(c.encode()).hexdigest() for c in CONTENTS)


@pytest.fixture(scope="module")
def source(django_db_setup, django_db_blocker, tmp_path_factory, _document_cert_dir) -> dict[str, Any]:
    """An installation with the world and two materials, and its backup (made once for the module)."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite backup path; PostgreSQL has tests/test_backup_postgres.py")
    from django.conf import settings

    var = tmp_path_factory.mktemp("source")
    with django_db_blocker.unblock():  # outside any test transaction: the migrated, empty test database
        assert connection.settings_dict["NAME"] == connection.creation._get_test_db_name()
        connection.ensure_connection()
        target = sqlite3.connect(var / "jishi.sqlite3")
        connection.connection.backup(target)
        target.close()
    env = installation_env(
        var,
        JISHI_DOCUMENT_CERT_DIR=str(_document_cert_dir),
        # …the passphrase its certificates were made with, given as production gives it: in the environment
        JISHI_DOCUMENT_CERT_PASSPHRASE=settings.DOCUMENT_CERT_PASSPHRASE,
    )
    heads = run_source(var / "backup", env)
    return {"var": var, "backup": var / "backup", "heads": heads, "certs": Path(_document_cert_dir)}


@pytest.fixture
def backup_dir(source: dict[str, Any], tmp_path: Path) -> Path:
    """A copy of the module's backup that the test may damage."""
    return Path(shutil.copytree(source["backup"], tmp_path / "backup"))


def _flip(path: Path) -> None:
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _files(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def _tables(db: Path) -> list[str]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


def test_a_backup_restored_into_an_empty_installation_has_the_same_chains_materials_and_keys(
    source: dict[str, Any], tmp_path: Path
):
    target = tmp_path / "restored"
    result = run_restore(source["backup"], installation_env(target))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "核验通过：3 条链" in result.stdout and "见证检查点均无误" in result.stdout
    with sqlite3.connect(target / "jishi.sqlite3") as conn:
        heads = conn.execute("SELECT fonds, seq, head_hash FROM ledger_chain ORDER BY fonds").fetchall()
    assert [list(h) for h in heads] == source["heads"]
    files = [target / "materials" / name for name in _files(target / "materials")]
    assert sorted(p.name for p in files) == material_names()
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == p.name for p in files)
    key = "secrets/field-encryption-key"
    assert (target / key).read_bytes() == (source["var"] / key).read_bytes()
    assert _files(target / "certs") == ["J001.p12", "J002.p12"]
    assert (target / "certs" / "J001.p12").read_bytes() == (source["certs"] / "J001.p12").read_bytes()
    assert "JISHI_DOCUMENT_CERT_PASSPHRASE=" in (target / "secrets" / "restored.env").read_text()


@pytest.mark.parametrize("which", ["database/jishi.sqlite3", "material"])
def test_a_changed_byte_in_the_backup_is_refused_naming_the_file(backup_dir: Path, which: str):
    name = which if which != "material" else f"materials/{material_names()[0][:2]}/{material_names()[0]}"
    _flip(backup_dir / name)

    with pytest.raises(CommandError, match=f"文件 {name} 的 sha256 与清单不符"):
        call_command("restore", str(backup_dir), stdout=io.StringIO())


def test_a_missing_and_an_extra_file_are_refused_naming_both(backup_dir: Path):
    (backup_dir / "witness" / "J002.txt").unlink()
    (backup_dir / "materials" / "notes.txt").write_text("not part of the backup")

    with pytest.raises(CommandError, match=r"多出的文件 materials/notes\.txt.*缺少文件 witness/J002\.txt"):
        call_command("restore", str(backup_dir), stdout=io.StringIO())


def test_a_damaged_manifest_is_refused_naming_it(backup_dir: Path):
    manifest = json.loads((backup_dir / "MANIFEST.json").read_text())
    manifest["database"]["file"] = "../elsewhere.sqlite3"
    (backup_dir / "MANIFEST.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match=r"MANIFEST\.json 已损坏：\.\./elsewhere\.sqlite3"):
        call_command("restore", str(backup_dir), stdout=io.StringIO())

    (backup_dir / "MANIFEST.json").write_text('{"format": "jishi-backup-1", "files": ')
    with pytest.raises(CommandError, match=r"MANIFEST\.json 已损坏，无法读取"):
        call_command("restore", str(backup_dir), stdout=io.StringIO())


def test_a_wrong_passphrase_is_refused_and_nothing_is_restored(backup_dir: Path, tmp_path: Path):
    target = tmp_path / "restored"
    result = run_restore(backup_dir, installation_env(target, JISHI_BACKUP_PASSPHRASE="not-the-passphrase"))

    assert result.returncode == 1
    assert "备份口令错误" in result.stderr
    assert "ledger_chain" not in _tables(target / "jishi.sqlite3")
    assert _files(target / "materials") == [] and _files(target / "certs") == []
    assert not list((target / "secrets").glob("*.before-restore-*"))


def test_restoring_over_a_database_with_records_is_refused_and_changes_nothing(
    world: World, backup_dir: Path, settings
):
    chains = list(Chain.objects.values_list("fonds", "seq"))

    with pytest.raises(CommandError, match=r"目标数据库不是空的.*ledger_chain"):
        call_command("restore", str(backup_dir), stdout=io.StringIO())
    assert list(Chain.objects.values_list("fonds", "seq")) == chains
    assert _files(Path(settings.MEDIA_ROOT)) == []


def test_restoring_into_a_material_store_that_has_files_is_refused(backup_dir: Path, tmp_path: Path):
    target = tmp_path / "restored"
    leftover = target / "materials" / "ab" / ("ab" + "0" * 62)
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"an earlier installation")

    result = run_restore(backup_dir, installation_env(target))

    assert result.returncode == 1
    assert "已有材料文件" in result.stderr
    assert "ledger_chain" not in _tables(target / "jishi.sqlite3")
    assert _files(target / "materials") == [f"ab/{leftover.name}"]


def test_backup_refuses_a_short_passphrase_a_non_empty_directory_and_an_open_transaction(
    world: World, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("SHORT_PASSPHRASE", "eleven-char")
    with pytest.raises(CommandError, match="至少 12 个字符"):
        call_command("backup", "-o", str(tmp_path / "new"), "--passphrase-env", "SHORT_PASSPHRASE")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "MANIFEST.json").write_text("{}")
    with pytest.raises(CommandError, match="不是空目录"):
        call_command("backup", "-o", str(tmp_path / "old"))
    monkeypatch.setenv("JISHI_BACKUP_PASSPHRASE", PASSPHRASE)
    with pytest.raises(CommandError, match="事务之外"):  # the test's own transaction: SQLite would wait forever
        call_command("backup", "-o", str(tmp_path / "new"))

    assert not (tmp_path / "new").exists()
    assert _files(tmp_path / "old") == ["MANIFEST.json"]


def test_the_key_archive_keeps_production_env_secrets_and_refuses_a_changed_byte(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(backup_keys, "SCRYPT_N_LOG2", 14)
    monkeypatch.setenv("JISHI_FIELD_KEY", "field-key-from-the-service-environment")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "django-secret-key").write_text("dev secret")
    sealed = backup_keys.seal(backup_keys.collect(tmp_path / "secrets", tmp_path / "no-certs"), PASSPHRASE)

    tampered = bytearray(sealed)
    tampered[15] ^= 0x01  # inside the authenticated header (the salt)
    with pytest.raises(CommandError, match="备份口令错误"):
        backup_keys.unseal(bytes(tampered), PASSPHRASE)
    members = backup_keys.unseal(sealed, PASSPHRASE)
    notes = backup_keys.install(members, tmp_path / "restored", tmp_path / "certs", "20260101000000")

    assert (tmp_path / "restored" / "django-secret-key").read_text() == "dev secret"
    assert (tmp_path / "restored" / "restored.env").read_text() == (
        "JISHI_FIELD_KEY=field-key-from-the-service-environment\n"
    )
    assert "JISHI_FIELD_KEY" in notes[0]
