"""Run a script against a throwaway PostgreSQL database (for real concurrency, outside the test transaction)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_in_scratch_db(script: str, name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Create database ``name`` beside ``DATABASE_URL``'s, run ``script`` there, return its last line as JSON."""
    import psycopg

    base = os.environ["DATABASE_URL"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        full_env = {
            **os.environ,
            "DATABASE_URL": base.rsplit("/", 1)[0] + "/" + name,
            "DJANGO_SETTINGS_MODULE": "jishi.settings",
            **(env or {}),
        }
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
