"""HTTP under load: 50 concurrent users against gunicorn, per endpoint, as a ratio to a trivial Django view.

What runs:

1. A database. By default a throwaway PostgreSQL database ``jishi_bench_http_<pid>`` on ``PG_URL`` (SQLite in a
   temp dir if PostgreSQL is unreachable), migrated and loaded with the demo (``demo_seed``); ``--dataset full``
   asks ``bench.dataset`` for the province dataset and falls back to the demo while that does not exist.
   ``--database-url`` uses an already prepared database instead (it is never dropped; the demo is loaded only if
   it holds no batch). The demo's signing keys are sealed with scrypt N=2**10 here: no measured page opens one.
2. The server: gunicorn ``jishi.wsgi`` as in production — ``JISHI_ENV=production`` with generated secrets,
   ``JISHI_SSL_REDIRECT=false`` and ``JISHI_SECURE_COOKIES=false`` (plain HTTP on 127.0.0.1, as nginx would
   forward), access log on, connected as a temporary non-owner role (production refuses the owner), 等保 mode
   on. Several worker set-ups are tried first on the trivial view and the batch list; the best goes on.
3. Sign-in: 等保 mode stays on (TOTP required). The load client holds real server-side sessions made with
   Django's ``SessionStore`` for one user (the auth keys plus ``otp_device_id`` of that user's confirmed TOTP
   device, as after password + TOTP), one session per simulated user. The API uses a read-scoped bearer token
   from ``jishi.api.tokens.token_create``.
4. The load: ``--users`` threads (default 50), each with its own keep-alive ``http.client`` connection,
   requesting one endpoint back to back (closed loop) for ``--seconds`` after a warm-up. Reported per endpoint:
   p50/p95/p99 latency, throughput, non-2xx and connection errors (any fails the run), the client's own CPU
   (it shares the machine's cores with the server) and the server workers' CPU — each also as a ratio to the
   trivial view (``/bench/trivial``, 404 unless ``JISHI_BENCH_VIEWS=true``), measured first and again last.

Run: ``python -m bench.http_load [--quick] [--seconds N] [--users N] [--dataset quick|full] [--database-url URL]``;
results in ``var/bench/http_load.json``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: python bench/http_load.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "http_load"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SIGN_IN_AS = "nj_leader"  # 部领导 + 部务会成员 of the city: sees the batches, the dashboard and the county units
TRIVIAL = "trivial view"
SWEEP_ENDPOINTS = (TRIVIAL, "batch list")
# (worker class, workers, threads per worker); production (deploy/systemd/jishi.service) runs 4 sync workers.
SERVER_SETUPS_QUICK = (("sync", 2, 1), ("sync", 4, 1), ("gthread", 2, 4))
SERVER_SETUPS_FULL = (("sync", 2, 1), ("sync", 3, 1), ("sync", 4, 1), ("gthread", 2, 4), ("gthread", 4, 4))


# Database and fixtures ---------------------------------------------------------------------------------


@dataclass
class Database:
    owner_url: str  # migrations and seeding ("" = SQLite at sqlite_path)
    app_url: str  # what gunicorn connects with
    description: str
    sqlite_path: str = ""
    cleanup: list[str] = field(default_factory=list)  # SQL run on the admin connection afterwards


def _with_path(url: str, db: str, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{user}@{host}"
    return urlunsplit(parts._replace(path="/" + db, netloc=netloc))


def server_env(base: dict[str, str], db: Database, var_dir: Path, secrets_: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env.update(secrets_)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "jishi.settings",
            "JISHI_ENV": "production",
            "JISHI_DEBUG": "false",
            "JISHI_SSL_REDIRECT": "false",  # plain HTTP on 127.0.0.1: nginx terminates TLS in production
            "JISHI_SECURE_COOKIES": "false",
            "JISHI_HSTS_SECONDS": "0",
            "JISHI_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "JISHI_VAR_DIR": str(var_dir),
            "JISHI_BENCH_VIEWS": "true",
            "JISHI_ARCHIVE_AUTO_BUILD": "false",
            "JISHI_LOG_LEVEL": "WARNING",
        }
    )
    env.pop("JISHI_OTP_REQUIRED", None)  # 等保 mode decides: TOTP required
    if db.sqlite_path:
        env.pop("DATABASE_URL", None)
        env["JISHI_SQLITE_PATH"] = db.sqlite_path
    else:
        env["DATABASE_URL"] = db.app_url
    return env


def prepare(sessions: int, dataset: str) -> dict[str, Any]:
    """Runs in a subprocess (``--prepare``) as the database owner: migrate, seed if empty, fixtures → JSON."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from jishi.accounts.keys import home_fonds
    from jishi.accounts.models import User, UserSession
    from jishi.accounts.sessions import LOGIN_AT, SEEN_AT
    from jishi.api.tokens import token_create
    from jishi.selection.models import Batch, StepRecord

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    seeded = "existing data"
    if not Batch.objects.exists():
        seeded = "demo" if dataset == "quick" else "demo (the province dataset was not available)"
        call_command("demo_seed", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    seed_seconds = time.perf_counter() - t0
    role = os.environ.get("BENCH_APP_ROLE", "")
    if role and connection.vendor == "postgresql":
        from jishi.ledger.dbroles import app_role_grants

        with connection.cursor() as cursor:
            for sql in app_role_grants(role):
                cursor.execute(sql)

    user = User.objects.filter(username=os.environ.get("BENCH_USER", SIGN_IN_AS)).first() or _overseer()
    # The dataset's accounts were made years back (its clock runs 2016–2025): as after a password change today,
    # or every page would redirect to the expired-password form.
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now(), password_must_change=False)
    user.refresh_from_db()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    cookies = []
    now = time.time()
    for _ in range(sessions):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store[LOGIN_AT] = store[SEEN_AT] = now
        store.create()
        UserSession.objects.create(
            user=user,
            session_key=store.session_key or "",
            created_at=timezone.now(),
            last_seen_at=timezone.now(),
            ip="127.0.0.1",
            user_agent="bench/http_load",
        )
        cookies.append(store.session_key)
    _, token = token_create(actor=user, name="bench http_load", scopes=["read"], days=1)

    # The richest finished batch of the user's unit, and its batch-scope step record with the most content.
    finished = Batch.objects.filter(org_unit__code=home_fonds(user), records__status="completed")
    batch = finished.order_by("id").distinct().first() or Batch.objects.order_by("id").first()
    if batch is None:
        raise SystemExit("http_load: the database holds no batch")
    records = list(StepRecord.objects.filter(batch=batch, nomination__isnull=True, status="completed"))
    record = max(records, key=lambda r: len(json.dumps(r.data, ensure_ascii=False))) if records else None
    step_path = reverse("step_batch", args=[batch.pk, record.step_id]) if record else reverse("home")
    api = "/api/v1"
    pages = {
        "我的待办 /": reverse("home"),
        "batch list": reverse("batch_list"),
        "batch detail": reverse("batch_detail", args=[batch.pk]),
        "step page": step_path,
        "cadre list": reverse("cadre_list"),
        "supervision dashboard": reverse("supervision_dashboard"),
        "warning list": reverse("warning_list"),
        "register": reverse("register"),
    }
    apis = {
        "API batches": f"{api}/batches",
        "API batch": f"{api}/batches/{batch.pk}",
        "API cadres": f"{api}/cadres",
        "API warnings": f"{api}/warnings",
        "API ledger events": f"{api}/ledger/events?subject_type=batch&subject_id={batch.pk}",
    }
    with connection.cursor() as cursor:
        sizes = {}
        for table in ("selection_batch", "cadres_cadre", "ledger_event", "selection_steprecord"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            sizes[table] = cursor.fetchone()[0]
    return {
        "dataset": seeded,
        "seed_seconds": round(seed_seconds, 1),
        "sizes": sizes,
        "user": user.username,
        "session_cookies": cookies,
        "token": token,
        "anonymous": {TRIVIAL: reverse("bench_trivial"), "/healthz": reverse("healthz")},
        "pages": pages,
        "api": apis,
    }


def _overseer() -> Any:
    """Without the demo's users: a 部领导 of the unit with the most batches (sees its units and those below)."""
    from django.db.models import Count

    from jishi.accounts.models import RoleAssignment
    from jishi.core.roles import Role
    from jishi.selection.models import Batch

    busiest = Batch.objects.values("org_unit").annotate(n=Count("id")).order_by("-n").first()
    found = RoleAssignment.objects.filter(role=Role.DEPT_LEADER, org_unit=busiest["org_unit"] if busiest else None)
    assignment = found.select_related("user").order_by("id").first()
    if assignment is None:
        raise SystemExit("http_load: no 部领导 to sign in as (set BENCH_USER)")
    return assignment.user


def province_database(admin_url: str) -> str | None:
    """The province dataset's database from ``bench.dataset.ensure`` (generated once, then reused)."""
    try:
        from bench import dataset
    except ImportError as exc:
        print(f"http_load: bench.dataset unavailable ({exc}); using the demo", flush=True)
        return None
    url, _info = dataset.ensure(admin_url, 1.0)
    return url


def open_database(args: argparse.Namespace, tmp: Path) -> tuple[Database, Any]:
    """The database to load and serve, and the admin connection to clean up with (None for SQLite)."""
    admin_url = os.environ.get("PG_URL") or DEFAULT_PG_URL
    role = f"jishi_bench_http_{os.getpid()}"
    if args.dataset == "full" and not args.database_url:
        args.database_url = province_database(admin_url) or ""
    if args.database_url:
        import psycopg

        admin = psycopg.connect(args.database_url, autocommit=True, connect_timeout=5)
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        db_name = urlsplit(args.database_url).path.lstrip("/")
        app_url = _with_path(args.database_url, db_name, user=role)
        db = Database(args.database_url, app_url, f"PostgreSQL {db_name} (given)")
        db.cleanup = [f'DROP OWNED BY "{role}"', f'DROP ROLE IF EXISTS "{role}"']
        return db, admin
    try:
        import psycopg

        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except Exception as exc:
        print(f"http_load: PostgreSQL at {admin_url} unreachable ({type(exc).__name__}); using SQLite", flush=True)
        path = str(tmp / "bench.sqlite3")
        return Database("", "", "SQLite (throwaway)", sqlite_path=path), None
    db_name = f"jishi_bench_http_{os.getpid()}"
    admin.execute(f'CREATE DATABASE "{db_name}"')
    admin.execute(f'CREATE ROLE "{role}" LOGIN')
    version = admin.execute("SHOW server_version").fetchone()
    db = Database(
        _with_path(admin_url, db_name),
        _with_path(admin_url, db_name, user=role),
        f"PostgreSQL {version[0] if version else '?'} {db_name} (throwaway)",
    )
    db.cleanup = [f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{role}"']
    return db, admin


# Server ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    setup: tuple[str, int, int]

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its workers so far (Linux /proc; 0 elsewhere)."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                continue
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(env: dict[str, str], setup: tuple[str, int, int], log_dir: Path) -> Server:
    kind, workers, threads = setup
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    cmd = [
        gunicorn,
        "jishi.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        kind,
        "--threads",
        str(threads),
        "--timeout",
        "300",
        "--no-control-socket",
        "--access-logfile",
        str(log_dir / "access.log"),  # production logs every request too (to journald)
        "--error-logfile",
        str(log_dir / "error.log"),
    ]
    with open(log_dir / "error.log", "ab") as log:  # the workers' start-up self-check output goes there too
        process = subprocess.Popen(cmd, cwd=common.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, port, setup)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (log_dir / "error.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"http_load: gunicorn exited with {process.returncode}\n{tail}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            conn.close()
            if status == 200 and len(server.worker_pids()) >= workers:
                return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit("http_load: gunicorn did not answer /healthz within 60 s")


# Load client -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    auth: str  # "anonymous" | "session" | "token"


@dataclass
class Measurement:
    endpoint: Endpoint
    seconds: float
    latencies_ms: list[float]
    non_2xx: dict[int, int]
    errors: list[str]
    bytes_per_response: float
    completed_in_window: int
    client_cpu_s: float
    server_cpu_s: float

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        n = len(lat)
        return {
            "endpoint": self.endpoint.name,
            "path": self.endpoint.path,
            "auth": self.endpoint.auth,
            "requests": n,
            "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.completed_in_window / self.seconds, 1),
            "p50_ms": round(common.percentile(lat, 50), 2),
            "p95_ms": round(common.percentile(lat, 95), 2),
            "p99_ms": round(common.percentile(lat, 99), 2),
            "max_ms": round(lat[-1], 2) if lat else None,
            "mean_ms": round(sum(lat) / n, 2) if n else None,
            "non_2xx": {str(k): v for k, v in self.non_2xx.items()},
            "errors": len(self.errors),
            "error_samples": self.errors[:5],
            "bytes_per_response": round(self.bytes_per_response),
            # Percent of one core; the client shares the machine with the server.
            "client_cpu_pct": round(100 * self.client_cpu_s / self.seconds, 1),
            "server_cpu_pct": round(100 * self.server_cpu_s / self.seconds, 1),
        }


def headers_for(endpoint: Endpoint, fixtures: dict[str, Any], user: int) -> dict[str, str]:
    headers = {"Host": "127.0.0.1", "User-Agent": "bench/http_load", "Accept-Language": "zh-hans"}
    if endpoint.auth == "session":
        cookies = fixtures["session_cookies"]
        headers["Cookie"] = f"sessionid={cookies[user % len(cookies)]}"
    elif endpoint.auth == "token":
        headers["Authorization"] = f"Bearer {fixtures['token']}"
    return headers


def check_once(server: Server, endpoint: Endpoint, fixtures: dict[str, Any]) -> int:
    """One request before the load: a non-2xx (a redirect to sign-in, a 403) fails the benchmark here."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", endpoint.path, headers=headers_for(endpoint, fixtures, 0))
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if not 200 <= response.status < 300:
        location = response.getheader("Location") or ""
        raise SystemExit(
            f"http_load: {endpoint.name} {endpoint.path} answered {response.status} {location} "
            f"{body[:300].decode(errors='replace')}"
        )
    return len(body)


WARMUP_CAP_SECONDS = 60.0


def drive(
    server: Server, endpoint: Endpoint, fixtures: dict[str, Any], users: int, seconds: float, warmup: float
) -> Measurement:
    """``users`` closed-loop clients; only requests inside the measured window count.

    The window opens after ``warmup`` seconds *and* once every user has had a response (on a slow page at 50
    users the first round alone takes seconds; measuring earlier would time a cold, half-filled queue), at most
    ``WARMUP_CAP_SECONDS`` after the start.
    """
    start_at = time.perf_counter() + 0.2  # every thread is running before the clock starts
    window = [math.inf, math.inf]  # start, end: set by the main thread once the warm-up is over
    answered = threading.Semaphore(0)
    lock = threading.Lock()
    latencies: list[float] = []
    non_2xx: dict[int, int] = {}
    errors: list[str] = []
    totals = [0, 0, 0]  # body bytes, responses, completions inside the window

    def user(index: int) -> None:
        headers = headers_for(endpoint, fixtures, index)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        mine: list[float] = []
        my_bad: dict[int, int] = {}
        my_errors: list[str] = []
        size = count = 0
        first = True
        while (now := time.perf_counter()) < start_at:
            time.sleep(min(0.01, start_at - now))
        while True:
            t0 = time.perf_counter()
            window_start, window_end = window
            if t0 >= window_end:
                break
            try:
                conn.request("GET", endpoint.path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # http.client reconnects on the next request
                if t0 >= window_start:
                    my_errors.append(f"{type(exc).__name__}: {exc}")
                continue
            t1 = time.perf_counter()
            if first:
                first = False
                answered.release()
            # Latency: every request started in the window (the last ones finish after it: slow pages would
            # otherwise lose their slowest samples). Throughput: completions inside the window.
            if t0 >= window_start:
                mine.append((t1 - t0) * 1000)
                size += len(body)
                count += t1 <= window_end
                if not 200 <= status < 300:
                    my_bad[status] = my_bad.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(my_errors)
            for k, v in my_bad.items():
                non_2xx[k] = non_2xx.get(k, 0) + v
            totals[0] += size
            totals[1] += len(mine)
            totals[2] += count

    threads = [threading.Thread(target=user, args=(i,), name=f"user-{i}", daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    cap = start_at + WARMUP_CAP_SECONDS
    for _ in range(users):
        if not answered.acquire(timeout=max(0.0, cap - time.perf_counter())):
            break
    while (now := time.perf_counter()) < start_at + warmup:
        time.sleep(min(0.05, start_at + warmup - now))
    cpu0, server0 = time.process_time(), server.cpu_seconds()
    begin = time.perf_counter()
    window[:] = [begin, begin + seconds]
    while (now := time.perf_counter()) < window[1]:
        time.sleep(min(0.05, window[1] - now))
    cpu1, server1 = time.process_time(), server.cpu_seconds()
    for t in threads:
        t.join()
    return Measurement(
        endpoint,
        seconds,
        latencies,
        non_2xx,
        errors,
        totals[0] / totals[1] if totals[1] else 0.0,
        totals[2],
        cpu1 - cpu0,
        server1 - server0,
    )


def with_ratios(rows: list[dict[str, Any]], baseline: dict[str, Any]) -> list[dict[str, Any]]:
    """Each figure over the trivial view's: latency ×, throughput as a fraction of the baseline's."""
    for r in rows:
        r["ratio_to_trivial"] = {
            "p50": _ratio(r["p50_ms"], baseline["p50_ms"]),
            "p95": _ratio(r["p95_ms"], baseline["p95_ms"]),
            "p99": _ratio(r["p99_ms"], baseline["p99_ms"]),
            "requests_per_s": _ratio(r["requests_per_s"], baseline["requests_per_s"], 4),
        }
    return rows


def _ratio(a: float, b: float, digits: int = 2) -> float | None:
    return round(a / b, digits) if b and not math.isnan(a) and not math.isnan(b) else None


def endpoints(fixtures: dict[str, Any]) -> list[Endpoint]:
    out = [Endpoint(n, p, "anonymous") for n, p in fixtures["anonymous"].items()]
    out += [Endpoint(n, p, "session") for n, p in fixtures["pages"].items()]
    out += [Endpoint(n, p, "token") for n, p in fixtures["api"].items()]
    return out


# Main ----------------------------------------------------------------------------------------------------


HEADERS = ["endpoint", "req/s", "p50 ms", "p95 ms", "p99 ms", "p50 ×triv", "p99 ×triv", "rps ×triv",
           "non-2xx", "err", "client CPU%", "server CPU%"]  # fmt: skip


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print_table(rows: list[dict[str, Any]], title: str) -> None:
    print()
    print(
        common.table(
            [
                "endpoint",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "p50 ×triv",
                "p99 ×triv",
                "rps ×triv",
                "non-2xx",
                "err",
                "client CPU%",
                "server CPU%",
            ],
            [
                (
                    r["endpoint"],
                    common.num(r["requests_per_s"], 1),
                    f"{r['p50_ms']:.1f}",
                    f"{r['p95_ms']:.1f}",
                    f"{r['p99_ms']:.1f}",
                    _fmt(r["ratio_to_trivial"]["p50"], 1),
                    _fmt(r["ratio_to_trivial"]["p99"], 1),
                    _fmt(r["ratio_to_trivial"]["requests_per_s"], 3),
                    sum(r["non_2xx"].values()),
                    r["errors"],
                    f"{r['client_cpu_pct']:.0f}",
                    f"{r['server_cpu_pct']:.0f}",
                )
                for r in rows
            ],
            title=title,
        ),
        flush=True,
    )


Setup = tuple[str, int, int]


def _sweep(
    env: dict[str, str],
    setups: tuple[Setup, ...],
    eps: dict[str, Endpoint],
    fixtures: dict[str, Any],
    args: argparse.Namespace,
    log_dir: Path,
) -> tuple[list[dict[str, Any]], Setup]:
    """Try each server set-up on the trivial view and the batch list; the best batch-list throughput wins.

    Pages decide, not the trivial view: its lead under gthread comes mostly from keep-alive (sync workers close
    every connection), which nginx's proxy connections to gunicorn do not use by default anyway.
    """
    results = []
    for setup in setups:
        server = start_server(env, setup, log_dir)
        try:
            row: dict[str, Any] = {"worker_class": setup[0], "workers": setup[1], "threads": setup[2]}
            for name in SWEEP_ENDPOINTS:
                check_once(server, eps[name], fixtures)
                m = drive(server, eps[name], fixtures, args.users, args.sweep_seconds, args.warmup).summary()
                _fail_on_errors(m)
                row[name] = {k: m[k] for k in ("requests_per_s", "p50_ms", "p99_ms", "server_cpu_pct")}
            row["score_requests_per_s"] = row[SWEEP_ENDPOINTS[1]]["requests_per_s"]
        finally:
            server.stop()
        print(
            f"  {setup[0]} ×{setup[1]} (threads {setup[2]}): "
            + ", ".join(
                f"{n} {row[n]['requests_per_s']:,.0f}/s p99 {row[n]['p99_ms']:.0f} ms" for n in SWEEP_ENDPOINTS
            ),
            flush=True,
        )
        results.append(row)
    best = max(results, key=lambda r: r["score_requests_per_s"])
    return results, (best["worker_class"], best["workers"], best["threads"])


def _fail_on_errors(summary: dict[str, Any]) -> None:
    if not summary["requests"]:
        raise SystemExit(f"http_load: {summary['endpoint']} completed no request in the window")
    if summary["non_2xx"] or summary["errors"]:
        raise SystemExit(
            f"http_load: {summary['endpoint']} had non-2xx {summary['non_2xx']} and {summary['errors']} errors "
            f"{summary['error_samples']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="same as BENCH_QUICK=1")
    parser.add_argument("--users", type=common.positive_int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per endpoint (10 quick, 60)")
    parser.add_argument("--dataset", choices=("quick", "full"), default=None, help="demo (quick) or province (full)")
    parser.add_argument("--database-url", default="", help="an already prepared PostgreSQL database (not dropped)")
    parser.add_argument("--server", default="", help="skip the sweep: CLASS:WORKERS[:THREADS], e.g. sync:4")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)  # internal: the seeding child
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"
    quick = common.quick()
    args.dataset = args.dataset or ("quick" if quick else "full")
    if args.prepare:
        fixtures = prepare(args.users, args.dataset)
        print("FIXTURES " + json.dumps(fixtures, ensure_ascii=False), flush=True)
        return 0
    args.seconds = args.seconds or float(os.environ.get("BENCH_HTTP_SECONDS") or (10 if quick else 60))
    args.sweep_seconds = max(4.0, args.seconds / 2)
    # Closed loop: latency settles once every user has waited its turn once (seconds at 50 users on a slow page).
    args.warmup = 2.0 if quick else 5.0
    started = time.perf_counter()

    tmp = Path(tempfile.mkdtemp(prefix="jishi_bench_http_"))
    db, admin = open_database(args, tmp)
    try:
        key_env = {
            "JISHI_SECRET_KEY": secrets.token_urlsafe(50),
            "JISHI_FIELD_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "JISHI_DOCUMENT_CERT_PASSPHRASE": secrets.token_urlsafe(32),
        }
        env = server_env(dict(os.environ), db, tmp / "var", key_env)
        prep_env = dict(env)
        if db.owner_url:
            prep_env["DATABASE_URL"] = db.owner_url
            prep_env["BENCH_APP_ROLE"] = urlsplit(db.app_url).username or ""
        prep_env["JISHI_SIGNING_SCRYPT_N_LOG2"] = "10"  # seeding only: no measured request opens a key
        print(f"http_load: {db.description}; migrating and loading the {args.dataset} dataset …", flush=True)
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "bench.http_load", "--prepare", "--users", str(args.users),
               "--dataset", args.dataset]  # fmt: skip
        out = subprocess.run(cmd, cwd=common.ROOT, env=prep_env, capture_output=True, text=True, check=False)
        line = next((ln for ln in out.stdout.splitlines() if ln.startswith("FIXTURES ")), None)
        if out.returncode != 0 or line is None:
            print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
            raise SystemExit("http_load: preparing the database failed")
        fixtures = json.loads(line[len("FIXTURES ") :])
        prepare_seconds = time.perf_counter() - t0
        print(f"  {fixtures['dataset']}: {fixtures['sizes']} ({prepare_seconds:.0f} s)", flush=True)

        eps = {e.name: e for e in endpoints(fixtures)}
        sweep: list[dict[str, Any]] = []
        if args.server:
            parts = args.server.split(":")
            chosen = (parts[0], int(parts[1]), int(parts[2]) if len(parts) > 2 else 1)
        else:
            print(f"server set-ups, {args.users} users, {args.sweep_seconds:.0f} s each:", flush=True)
            sweep, chosen = _sweep(env, SERVER_SETUPS_QUICK if quick else SERVER_SETUPS_FULL, eps, fixtures, args, tmp)
        print(
            f"gunicorn {chosen[0]} ×{chosen[1]} (threads {chosen[2]}); {args.seconds:.0f} s per endpoint:", flush=True
        )
        server = start_server(env, chosen, tmp)
        rows: list[dict[str, Any]] = []
        try:
            order = [*eps.values(), eps[TRIVIAL]]  # the baseline again at the end: how much the machine drifted
            for i, ep in enumerate(order):
                check_once(server, ep, fixtures)
                m = drive(server, ep, fixtures, args.users, args.seconds, args.warmup).summary()
                if i == len(order) - 1:
                    m["endpoint"] = f"{TRIVIAL} (again, last)"
                rows.append(m)
                print(
                    f"  {m['endpoint']}: {m['requests_per_s']:,.1f}/s, p50 {m['p50_ms']:.1f} ms, "
                    f"p99 {m['p99_ms']:.1f} ms",
                    flush=True,
                )
                _fail_on_errors(m)
        finally:
            server.stop()
    finally:
        if admin is not None:
            for sql in db.cleanup:
                with contextlib.suppress(Exception):
                    admin.execute(sql)
            admin.close()
        shutil.rmtree(tmp, ignore_errors=True)

    baseline = rows[0]
    with_ratios(rows, baseline)
    total = time.perf_counter() - started
    _print_table(rows, f"HTTP at {args.users} concurrent users, gunicorn {chosen[0]} ×{chosen[1]}, {db.description}")
    drift = _ratio(rows[-1]["requests_per_s"], baseline["requests_per_s"])
    print(f"\ntrivial view last/first throughput: {drift} (machine drift during the run); total {total:.0f} s")
    path = common.write_result(
        NAME,
        {
            "database": db.description,
            "dataset": fixtures["dataset"],
            "sizes": fixtures["sizes"],
            "signed_in_as": fixtures["user"],
            "sign_in": "server-side sessions (SessionStore) with the auth keys and otp_device_id; 等保 mode on",
            "settings": "JISHI_ENV=production, JISHI_SSL_REDIRECT=false, JISHI_SECURE_COOKIES=false, generated secrets",
            "users": args.users,
            "seconds_per_endpoint": args.seconds,
            "warmup_seconds": args.warmup,
            "server": {"worker_class": chosen[0], "workers": chosen[1], "threads": chosen[2]},
            "server_sweep": sweep,
            "endpoints": rows,
            "baseline_drift_last_over_first": drift,
            "prepare_seconds": round(prepare_seconds, 1),
            "total_seconds": round(total, 1),
        },
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
