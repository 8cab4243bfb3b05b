"""PostgreSQL for the fault runs: a private cluster this run may crash, and throwaway databases on a server.

The shared server (``PG_URL``, 127.0.0.1:5432) is only ever asked to create and drop this run's own database;
it is never stopped. "PostgreSQL stopped immediately" uses a private cluster (``initdb`` into a temp dir, its
own port), which ``pg_ctl stop -m immediate`` kills like a power cut kills the server process: no checkpoint,
no goodbye to clients, crash recovery from the WAL at the next start.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

BIN = Path(os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def create_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PrivateCluster:
    """``initdb`` + ``pg_ctl`` in a temp dir on a random port; the server runs as ``postgres`` when we are root
    (PostgreSQL refuses to run as root)."""

    def __init__(self, rng: random.Random) -> None:
        self.port = 54329 + rng.randrange(1, 600)
        self.dir = Path(tempfile.mkdtemp(prefix="jishi_faults_pg_"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, *args], check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-instructions",
        )  # fmt: skip
        # Durability as shipped (fsync, synchronous_commit and full_page_writes on); small, since it is throwaway.
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                "shared_buffers = 32MB\nmax_connections = 20\nlogging_collector = off\n"
                # Crash recovery starts by syncing the data directory; one syncfs() instead of an fsync() per
                # file keeps a restart short on a shared disk (the WAL replay itself is unchanged).
                "recovery_init_sync_method = syncfs\n"
            )

    def start(self) -> float:
        t0 = time.perf_counter()
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        return time.perf_counter() - t0

    def stop_immediate(self) -> float:
        t0 = time.perf_counter()
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        return time.perf_counter() - t0

    def running(self) -> bool:
        return self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "status", check=False).returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running():
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
