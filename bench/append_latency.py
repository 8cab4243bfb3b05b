"""Latency of ``services.event_append`` on PostgreSQL, alone and with concurrent writers.

Creates a throwaway database ``jishi_bench_<pid>`` (``PG_URL``, default
``postgres://postgres@127.0.0.1:5432/postgres``, names the server and an account that may create databases),
migrates it, runs the configurations below and drops it again (``WITH (FORCE)``) whatever happens.

Every writer is a thread with its own Django connection; each append is its own ``transaction.atomic()``
and is timed from before ``atomic()`` to after the commit. Writers on one fonds queue on the chain head's
``SELECT … FOR UPDATE``; writers on different fonds do not. Checkpoints are off (``LEDGER_CHECKPOINT_EVERY=0``)
except in the two runs marked ``checkpoint every 100`` (the default setting), for comparison.

Afterwards every chain is checked by query (no gaps, no duplicate seq, head = count) and re-verified in full
with ``selectors.chain_verify`` (hashes, links, system signatures, checkpoint signatures and roots).

If PostgreSQL cannot be reached the benchmark prints why and exits 0 — unless ``CI=true``, then it fails.

Run: ``python -m bench.append_latency [--appends N]``; results in ``var/bench/append_latency.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

if __package__ in (None, ""):  # run as a script: python bench/append_latency.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "append_latency"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
WARMUP_PER_WRITER = 5


@dataclass(frozen=True)
class Config:
    label: str
    writers: int
    fonds: tuple[str, ...]  # writer i appends to fonds[i % len(fonds)]
    checkpoint_every: int


@dataclass
class Outcome:
    config: Config
    appends: int
    wall_seconds: float
    client_cpu_seconds: float = 0.0  # this process, all threads (Django + psycopg; PostgreSQL's own CPU not included)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "label": self.config.label,
            "writers": self.config.writers,
            "fonds": list(self.config.fonds),
            "checkpoint_every": self.config.checkpoint_every,
            "appends": self.appends,
            "wall_seconds": round(self.wall_seconds, 3),
            "appends_per_s": round(self.appends / self.wall_seconds, 1),
            "client_cpu_ms_per_append": round(self.client_cpu_seconds / self.appends * 1000, 3),
            "p50_ms": round(common.percentile(lat, 50), 3),
            "p90_ms": round(common.percentile(lat, 90), 3),
            "p99_ms": round(common.percentile(lat, 99), 3),
            "max_ms": round(lat[-1], 3) if lat else None,
            "mean_ms": round(sum(lat) / len(lat), 3) if lat else None,
            "errors": self.errors,
        }


def configs() -> list[Config]:
    return [
        Config("1 writer, 1 fonds", 1, ("B1W1",), 0),
        Config("4 writers, 1 fonds (contended)", 4, ("B4W1",), 0),
        Config("4 writers, 4 fonds", 4, ("B4F1", "B4F2", "B4F3", "B4F4"), 0),
        Config("1 writer, 1 fonds, checkpoint every 100", 1, ("C1W1",), 100),
        Config("4 writers, 1 fonds, checkpoint every 100", 4, ("C4W1",), 100),
    ]


def _database_url(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + name))


def _unreachable(admin_url: str, why: str) -> int:
    message = f"append_latency: PostgreSQL at {admin_url} is not reachable ({why})"
    if os.environ.get("CI") == "true":
        print(f"{message}; CI=true requires it", file=sys.stderr)
        common.write_result(NAME, {"failed": message})
        return 1
    print(f"{message} — skipped (set PG_URL to a server where this account may CREATE DATABASE)")
    common.write_result(NAME, {"skipped": message})
    return 0


def run_config(config: Config, appends: int, users: list[Any]) -> Outcome:
    from django.conf import settings
    from django.db import connection, transaction

    from jishi.ledger import services

    settings.LEDGER_CHECKPOINT_EVERY = config.checkpoint_every
    for fonds in config.fonds:
        with transaction.atomic():
            services.chain_get_or_create(fonds=fonds)
    per_writer = [appends // config.writers + (1 if i < appends % config.writers else 0) for i in range(config.writers)]
    barrier = threading.Barrier(config.writers + 1)
    outcome = Outcome(config, appends, 0.0)
    lock = threading.Lock()

    def writer(index: int) -> None:
        fonds = config.fonds[index % len(config.fonds)]
        user = users[index]
        rng = random.Random(index)
        mine: list[float] = []
        try:
            for k in range(WARMUP_PER_WRITER):  # opens this thread's connection outside the timed part
                action, subject_type, subject_id, payload = common.event_content(rng, k)
                with transaction.atomic():
                    services.event_append(
                        fonds=fonds,
                        actor=user,
                        action=action,
                        subject_type=subject_type,
                        subject_id=subject_id,
                        payload=payload,
                    )
            barrier.wait()
            for k in range(per_writer[index]):
                action, subject_type, subject_id, payload = common.event_content(rng, k)
                t0 = time.perf_counter()
                with transaction.atomic():
                    services.event_append(
                        fonds=fonds,
                        actor=user,
                        action=action,
                        subject_type=subject_type,
                        subject_id=subject_id,
                        payload=payload,
                    )
                mine.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:
            with lock:
                outcome.errors.append(f"writer {index}: {type(exc).__name__}: {exc}")
            barrier.abort()
        finally:
            connection.close()
            with lock:
                outcome.latencies_ms.extend(mine)

    threads = [threading.Thread(target=writer, args=(i,), name=f"writer-{i}") for i in range(config.writers)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a writer failed during warm-up: reported below
        barrier.wait()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    outcome.wall_seconds = time.perf_counter() - t0
    outcome.client_cpu_seconds = time.process_time() - cpu0
    return outcome


def check_chains() -> list[dict[str, Any]]:
    """Per chain: counts by query and a full re-verification."""
    from django.db import connection

    from jishi.ledger import selectors
    from jishi.ledger.models import Chain

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.fonds, c.seq, count(e.id), count(DISTINCT e.seq), coalesce(min(e.seq), 0),
                   coalesce(max(e.seq), 0),
                   (SELECT count(*) FROM ledger_checkpoint k WHERE k.chain_id = c.id)
            FROM ledger_chain c LEFT JOIN ledger_event e ON e.chain_id = c.id
            GROUP BY c.id, c.fonds, c.seq ORDER BY c.fonds
            """
        )
        counts = cursor.fetchall()
        cursor.execute(
            """
            SELECT c.fonds, count(*) FROM (
                SELECT chain_id, seq - lag(seq) OVER (PARTITION BY chain_id ORDER BY seq) AS step FROM ledger_event
            ) s JOIN ledger_chain c ON c.id = s.chain_id
            WHERE s.step IS NOT NULL AND s.step <> 1 GROUP BY c.fonds
            """
        )
        gaps = dict(cursor.fetchall())
    keys = selectors.registry()
    report = []
    for fonds, head, rows, distinct, low, high, checkpoints in counts:
        problem = selectors.chain_verify(Chain.objects.get(fonds=fonds), keys=keys, check_files=False)
        ok = rows == distinct == high == head and low == 1 and not gaps.get(fonds) and problem is None
        report.append(
            {
                "fonds": fonds,
                "head_seq": head,
                "events": rows,
                "distinct_seq": distinct,
                "min_seq": low,
                "max_seq": high,
                "gaps": gaps.get(fonds, 0),
                "checkpoints": checkpoints,
                "chain_verify": "ok" if problem is None else str(problem),
                "ok": ok,
            }
        )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--appends",
        type=common.positive_int,
        default=common.default_size("BENCH_APPENDS", 2_000, minimum=20),
        help="timed appends per configuration, split over its writers (env BENCH_APPENDS; default 2,000)",
    )
    args = parser.parse_args(argv)
    appends: int = args.appends
    admin_url = os.environ.get("PG_URL") or DEFAULT_PG_URL

    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        return _unreachable(admin_url, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)

    db_name = f"jishi_bench_{os.getpid()}"
    outcomes: list[Outcome] = []
    try:
        with admin:
            server = admin.execute("SHOW server_version").fetchone()
            sync = admin.execute("SHOW synchronous_commit").fetchone()
            admin.execute(f'CREATE DATABASE "{db_name}"')
            try:
                os.environ["DATABASE_URL"] = _database_url(admin_url, db_name)
                os.environ["JISHI_LEDGER_CHECKPOINT_EVERY"] = "0"
                os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
                import django

                django.setup()
                from django.core.management import call_command
                from django.db import connections

                from jishi.accounts.models import User

                print(f"append_latency: PostgreSQL {server[0] if server else '?'}, database {db_name}", flush=True)
                call_command("migrate", verbosity=0, interactive=False)
                users = [
                    User.objects.create(username=f"bench{i}", full_name=name)
                    for i, name in enumerate(["李晓红", "王建国", "陈志远", "张伟"])
                ]
                for config in configs():
                    print(f"  {config.label}: {common.num(appends)} appends…", flush=True)
                    outcome = run_config(config, appends, users)
                    outcomes.append(outcome)
                    if outcome.errors:
                        print("\n".join(outcome.errors), file=sys.stderr)
                        return 1
                chains = check_chains()
                connections.close_all()
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"append_latency: PostgreSQL error: {exc}", file=sys.stderr)
        return 1

    rows = []
    for o in outcomes:
        s = o.summary()
        rows.append(
            (
                s["label"],
                f"{s['p50_ms']:.2f}",
                f"{s['p90_ms']:.2f}",
                f"{s['p99_ms']:.2f}",
                f"{s['max_ms']:.2f}",
                common.num(s["appends_per_s"], 0),
                f"{s['client_cpu_ms_per_append']:.2f}",
            )
        )
    print()
    print(
        common.table(
            ["configuration", "p50 ms", "p90 ms", "p99 ms", "max ms", "appends/s", "client CPU ms/append"],
            rows,
            title=f"event_append on PostgreSQL {server[0] if server else ''}, {common.num(appends)} timed appends each "
            f"(synchronous_commit={sync[0] if sync else '?'})",
        )
    )
    print()
    print(
        common.table(
            ["fonds", "head seq", "events", "distinct seq", "gaps", "checkpoints", "chain_verify"],
            [
                (
                    c["fonds"],
                    c["head_seq"],
                    c["events"],
                    c["distinct_seq"],
                    c["gaps"],
                    c["checkpoints"],
                    c["chain_verify"],
                )
                for c in chains
            ],
            title="Chains afterwards (events include the genesis event and each writer's warm-up appends)",
        )
    )
    all_ok = all(c["ok"] for c in chains)
    print(f"\nno gaps, no duplicate seq, every chain verifies: {'yes' if all_ok else 'NO'}")
    path = common.write_result(
        NAME,
        {
            "postgresql": server[0] if server else None,
            "synchronous_commit": sync[0] if sync else None,
            "appends_per_configuration": appends,
            "warmup_appends_per_writer": WARMUP_PER_WRITER,
            "configurations": [o.summary() for o in outcomes],
            "chains": chains,
            "chains_ok": all_ok,
        },
    )
    print(f"\nresults: {path}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
