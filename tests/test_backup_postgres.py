"""Backup and restore on PostgreSQL: ``pg_dump`` of a running installation, restored by ``pg_restore`` into
a freshly migrated database (what an operator has after installing) and into a database without tables,
verifies against the backup's witnesses; a second restore over restored data is refused.

The installations are scratch databases beside the test database, seeded with a copy of the migrated,
empty test database (``pg_dump`` sees only its committed schema, not this test's transaction) — cheaper
than running the migrations again — and driven by subprocesses, as in ``tests/pg_scratch.py``. It is one
test of about 25 s (an installation built, backed up, restored three times) and the only run of pg_dump,
pg_restore over a migrated schema, and the append-only triggers coming back with a restore.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.test_backup_restore import installation_env, material_names, run_restore, run_source


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore: run with DATABASE_URL (make test does so when PostgreSQL answers)")


def _url(name: str) -> str:
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + name


def _migrated_copy(names: list[str], empty: str) -> None:
    """Databases ``names`` as copies of the migrated, empty test database; ``empty`` without any table."""
    dump = subprocess.run(
        ["pg_dump", "--format=custom", f"--dbname={_url(connection.settings_dict['NAME'])}"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        for name in [*names, empty]:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    for name in names:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_url(name)}"],
            input=dump,
            capture_output=True,
            check=True,
            timeout=120,
        )


def _heads(name: str) -> list[list[object]]:
    with psycopg.connect(_url(name)) as conn:
        rows = conn.execute("SELECT fonds, seq, head_hash FROM ledger_chain ORDER BY fonds").fetchall()
    return [list(row) for row in rows]


def test_a_postgresql_backup_restores_into_a_migrated_or_a_bare_database_and_verifies(tmp_path: Path):
    pid = os.getpid()
    source, migrated, bare = f"jishi_bk_source_{pid}", f"jishi_bk_migrated_{pid}", f"jishi_bk_bare_{pid}"
    _migrated_copy([source, migrated], empty=bare)
    try:
        heads = run_source(tmp_path / "backup", installation_env(tmp_path / "source", DATABASE_URL=_url(source)))
        assert (tmp_path / "backup" / "database" / "jishi.pgdump").read_bytes()[:5] == b"PGDMP"

        for name in (migrated, bare):
            target = tmp_path / name
            result = run_restore(tmp_path / "backup", installation_env(target, DATABASE_URL=_url(name)))
            assert result.returncode == 0, result.stdout + result.stderr
            assert "核验通过：3 条链" in result.stdout and "见证检查点均无误" in result.stdout
            assert _heads(name) == heads
            assert sorted(p.name for p in (target / "materials").rglob("*") if p.is_file()) == material_names()

        again = run_restore(tmp_path / "backup", installation_env(tmp_path / "again", DATABASE_URL=_url(migrated)))
        assert again.returncode == 1
        assert "目标数据库不是空的" in again.stderr and "ledger_chain" in again.stderr
        assert _heads(migrated) == heads
        with psycopg.connect(_url(migrated)) as conn, pytest.raises(psycopg.errors.RaiseException):
            conn.execute("DELETE FROM ledger_event")  # the append-only triggers came back with the tables
    finally:
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            for name in (source, migrated, bare):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
