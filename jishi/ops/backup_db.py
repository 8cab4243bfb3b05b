"""The database part of a backup and a restore, for SQLite and PostgreSQL.

Both dumps are consistent snapshots taken while the service keeps running: SQLite through its online
backup API (one read transaction; WAL writers are not blocked and do not tear the copy), PostgreSQL through
``pg_dump --snapshot`` of a REPEATABLE READ transaction that also reads the chain heads — so the heads in
the manifest are exactly those of the dump.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.backends.postgresql.client import DatabaseClient

HEADS_SQL = "SELECT fonds, algorithm, seq, head_hash FROM ledger_chain ORDER BY fonds"
DUMP_NAMES = {"sqlite": "database/jishi.sqlite3", "postgresql": "database/jishi.pgdump"}


def _heads(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [{"fonds": f, "algorithm": a, "seq": s, "head_hash": h} for f, a, s, h in rows]


def dump(target: Path) -> list[dict[str, Any]]:
    """Write the database to ``target``; returns the chain heads contained in that very dump."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        return _sqlite_dump(target)
    if connection.vendor == "postgresql":
        return _postgres_dump(target)
    raise CommandError(f"不支持备份 {connection.vendor} 数据库。")


def _sqlite_dump(target: Path) -> list[dict[str, Any]]:
    # Django's own connection, so whatever it sees (also an in-memory test database) is what is copied.
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
        destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        rows = destination.execute(HEADS_SQL).fetchall()
    finally:
        destination.close()
    return _heads(rows)


def _pg_command(program: str, options: list[str]) -> tuple[list[str], dict[str, str]]:
    """``program`` with the connection of ``DATABASES["default"]`` (password and TLS via PG* variables)."""
    settings_dict = connection.settings_dict
    _psql, env = DatabaseClient.settings_to_cmd_args_env(settings_dict, [])
    args = [program, "--no-password"]
    for flag, key in (("--username", "USER"), ("--host", "HOST"), ("--port", "PORT")):
        if settings_dict.get(key):
            args.append(f"{flag}={settings_dict[key]}")
    if settings_dict.get("NAME"):
        args.append(f"--dbname={settings_dict['NAME']}")
    return [*args, *options], {**os.environ, **(env or {})}


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise CommandError(f"找不到 {args[0]}：请安装与数据库版本相同的 PostgreSQL 客户端工具。") from None
    if result.returncode != 0:
        raise CommandError(f"{what}失败（{args[0]} 退出码 {result.returncode}）：{result.stderr.strip()[-2000:]}")


def _postgres_dump(target: Path) -> list[dict[str, Any]]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        cursor.execute(HEADS_SQL)
        heads = _heads(cursor.fetchall())
        args, env = _pg_command("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={target}"])
        _run(args, env, "pg_dump 导出数据库")
    return heads


def nonempty_tables() -> list[str]:
    """Jishi tables of the target database that hold rows (Django's own bookkeeping tables do not count)."""
    existing = set(connection.introspection.table_names())
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model.__module__.startswith("jishi.") and model._meta.managed and not model._meta.proxy
        }
        & existing
    )
    found = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
            if cursor.fetchone():
                found.append(table)
    return found


def restore(source: Path) -> None:
    """Replace the (empty) target database by the dump. Django's connection is closed first, so no open
    handle or transaction of this process holds a lock or a stale view of the file being replaced."""
    connection.close()
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        original = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
        # The backup API writes through SQLite's own locking and journal (also a WAL target), unlike a file copy.
        destination = sqlite3.connect(name, timeout=20)
        try:
            original.backup(destination)
        finally:
            destination.close()
            original.close()
        return
    # Owner and grants are left to the target: roles differ between servers (docs/deploy.md).
    options = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--clean", "--if-exists"]
    args, env = _pg_command("pg_restore", [*options, str(source)])
    _run(args, env, "pg_restore 恢复数据库")
