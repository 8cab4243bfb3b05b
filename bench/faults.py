"""Fault runs: ``kill -9`` of the application during writes, and PostgreSQL stopped immediately.

Three scenarios, each in its own process (Django settings are per process) with its own throwaway database:

``sqlite-kill``  a migrated SQLite file in a temp dir (WAL, ``synchronous=NORMAL`` as configured);
``pg-kill``      a database ``jishi_faults_<pid>`` on the shared server (``PG_URL``), dropped afterwards;
``pg-stop``      a private cluster (``initdb`` in a temp dir, random port 54330–54928) — never the shared one.

In the kill scenarios a writer (``bench/faults_workload.py``: real service calls, each acknowledged with an
fsync'd line only after its transaction committed) is started, left to write for a random 20–600 ms
(seeded) and killed with SIGKILL; then the next one starts on the same database. Nine restarts in ten fork a
child from the scenario process, which has Django set up already (so a restart costs milliseconds); every
tenth is a fresh ``python -m bench.faults --writer`` that imports and sets up Django, whose start-up time is
reported — the floor for a real restart. In ``pg-stop`` one writer runs throughout and reconnects; the
cluster is stopped with ``pg_ctl stop -m immediate`` at a random moment, restarted after 0–300 ms, and the
writer must acknowledge a new write before the next cycle. What the writer saw meanwhile (exception types)
and what ``/healthz`` answered while the database was down are recorded.

After every ``--check-every`` cycles and at the end, ``bench/faults_check.py`` checks (a) no acknowledged write
lost, (b) no partial record, (c) ``chain_verify`` of every chain, (d) SQLite ``PRAGMA integrity_check``. Any
failure stops the scenario and the run exits 1.

Run: ``python -m bench.faults [--quick] [--cycles N] [--pg-cycles M] [--only sqlite-kill,pg-kill,pg-stop]``.
Defaults: 1,000 kill cycles per backend and 1,000 PostgreSQL stops; ``--quick`` (or ``BENCH_QUICK=1``): 200 of
each. Results: ``var/bench/faults.json`` and a table. If the shared server is unreachable, ``pg-kill`` is
skipped (fails under ``CI=true``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/faults.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, faults_pg

NAME = "faults"
SCENARIOS = ("sqlite-kill", "pg-kill", "pg-stop")
EXEC_EVERY = 10  # every tenth restart is a fresh interpreter (Django set up from scratch)
KILL_DELAY_S = (0.02, 0.6)
DOWN_S = (0.0, 0.3)
READY_TIMEOUT_S = 60.0
# The deliberate scrypt cost of signing PINs (2**15) is measured elsewhere; here it would only slow the writes.
SCRYPT_N_LOG2 = "10"


# Writer processes ------------------------------------------------------------------------------------


class WriterProcess:
    """A writer started by fork (Django already set up here) or by exec (a fresh interpreter)."""

    def __init__(self, ack: Path, *, first_op: int, seed: int, exec_: bool, reconnect: bool = False) -> None:
        from django.db import connections

        connections.close_all()  # a child must never share this process's database connection
        self.exec_ = exec_
        self.started = time.perf_counter()
        self.proc: subprocess.Popen[bytes] | None = None
        if exec_:
            args = [sys.executable, "-m", "bench.faults", "--writer", str(ack), "--first-op", str(first_op)]
            args += ["--seed", str(seed)] + (["--reconnect"] if reconnect else [])
            self.proc = subprocess.Popen(args, cwd=common.ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            assert self.proc.stdout is not None
            self.pid, self.ready_fd = self.proc.pid, self.proc.stdout.fileno()
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: write until killed
            code = 1
            try:
                os.close(r)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                from bench import faults_workload

                faults_workload.run(
                    str(ack), first_op=first_op, seed=seed, ready=lambda: os.write(w, b"r"), reconnect=reconnect
                )
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(w)
        self.pid, self.ready_fd = pid, r

    def wait_ready(self) -> float:
        """Seconds from start to the writer's loop; raises if it died first."""
        readable, _, _ = select.select([self.ready_fd], [], [], READY_TIMEOUT_S)
        if not readable or not os.read(self.ready_fd, 1):
            self.kill()
            raise RuntimeError(f"writer {self.pid} died or hung before writing{self.stderr()}")
        return time.perf_counter() - self.started

    def alive(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        done, _ = os.waitpid(self.pid, os.WNOHANG)
        if done:
            self.pid = -1
        return not done

    def kill(self) -> int:
        """SIGKILL and reap; returns the wait status' signal (9 when it was still writing)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            code = self.proc.wait()
            self.proc.stdout and self.proc.stdout.close()
            return -code if code < 0 else 0
        if not self.exec_:
            os.close(self.ready_fd)
        if self.pid <= 0:
            return 0
        os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0

    def stderr(self) -> str:
        if self.proc is not None and self.proc.stderr is not None:
            return ":\n" + self.proc.stderr.read().decode(errors="replace")[-2000:]
        return ""


def writer_main(args: argparse.Namespace) -> int:
    """``--writer``: a fresh interpreter; says ``r`` on stdout when its loop starts."""
    import django

    django.setup()
    from bench import faults_workload

    def ready() -> None:
        sys.stdout.buffer.write(b"r")
        sys.stdout.flush()

    faults_workload.run(args.writer, first_op=args.first_op, seed=args.seed, ready=ready, reconnect=args.reconnect)
    return 0


# One scenario ----------------------------------------------------------------------------------------


class Scenario:
    def __init__(self, name: str, cycles: int, check_every: int, seed: int, work: Path) -> None:
        self.name, self.cycles, self.check_every, self.work = name, cycles, check_every, work
        self.rng = random.Random(f"{seed}:{name}")
        self.seed = seed
        self.ack = work / "acks.jsonl"
        self.baseline_event_id = 0
        self.checks = 0
        self.check_seconds = 0.0
        self.last: Any = None

    def prepare(self) -> dict[str, Any]:
        from django.core.management import call_command
        from django.db import connections

        from bench import faults_workload
        from jishi.ledger.models import Event

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        t1 = time.perf_counter()
        world = faults_workload.prepare()
        self.baseline_event_id = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
        connections.close_all()
        return {"migrate_s": round(t1 - t0, 2), "world_s": round(time.perf_counter() - t1, 2), **world}

    def check(self, *, final: bool = False) -> bool:
        from django.db import connections

        from bench import faults_check

        t0 = time.perf_counter()
        try:
            self.last = faults_check.check(self.ack, baseline_event_id=self.baseline_event_id)
        finally:
            connections.close_all()
        self.check_seconds += time.perf_counter() - t0
        self.checks += 1
        if not self.last.ok:
            print(f"  {self.name}: CHECK FAILED", *self.last.problems, sep="\n    ", file=sys.stderr, flush=True)
        return bool(self.last.ok)

    def due(self, cycle: int) -> bool:
        return (cycle + 1) % self.check_every == 0 or cycle + 1 == self.cycles

    def progress(self, cycle: int, t0: float) -> None:
        if (cycle + 1) % max(1, self.cycles // 10) == 0 or cycle + 1 == self.cycles:
            acked = self.last.acknowledged if self.last else 0
            print(
                f"  {self.name}: {cycle + 1}/{self.cycles} cycles, {common.num(acked)} writes acknowledged "
                f"at last check, {time.perf_counter() - t0:.0f} s",
                flush=True,
            )

    def summary(self, extra: dict[str, Any]) -> dict[str, Any]:
        r = self.last
        return {
            "scenario": self.name,
            "acknowledged_writes": r.acknowledged,
            "acknowledged_events": r.acknowledged_events,
            "lost": r.lost,
            "partial": r.partial,
            "chain_failures": r.chain_failures,
            "sqlite_integrity": r.integrity,
            "events_total": r.events_total,
            "unacknowledged_committed_events": r.unacknowledged_committed_events,
            "unacknowledged_by_action": r.unacknowledged_by_action,
            "problems": r.problems,
            "checks": self.checks,
            "check_seconds_mean": round(self.check_seconds / max(1, self.checks), 3),
            "ok": r.ok,
            **extra,
        }


def _ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "median_ms": None, "max_ms": None}
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def run_kills(s: Scenario) -> dict[str, Any]:
    starts: dict[str, list[float]] = {"fork": [], "exec": []}
    signals: Counter[int] = Counter()
    t0 = time.perf_counter()
    ok = True
    for cycle in range(s.cycles):
        exec_ = cycle % EXEC_EVERY == 0
        writer = WriterProcess(s.ack, first_op=cycle * 1_000_000, seed=s.seed * 100_003 + cycle, exec_=exec_)
        starts["exec" if exec_ else "fork"].append(writer.wait_ready())
        time.sleep(s.rng.uniform(*KILL_DELAY_S))
        if not writer.alive():
            raise RuntimeError(f"writer of cycle {cycle} exited by itself{writer.stderr()}")
        signals[writer.kill()] += 1
        if s.due(cycle):
            ok = s.check() and ok
            s.progress(cycle, t0)
            if not ok:
                s.cycles = cycle + 1
                break
    wall = time.perf_counter() - t0
    return {
        "cycles": s.cycles,
        "killed_by_sigkill": signals.get(signal.SIGKILL, 0),
        "restart_fork": _ms(starts["fork"]),
        "restart_exec_django_setup": _ms(starts["exec"]),
        "wall_seconds": round(wall, 1),
        "acknowledged_writes_per_s": round(s.last.acknowledged / wall, 1) if s.last else None,
    }


def _count_acks(path: Path, offset: int) -> tuple[int, int]:
    """New ``ack`` lines since ``offset`` and the new offset (only whole lines)."""
    with path.open("rb") as f:
        f.seek(offset)
        chunk = f.read()
    whole = chunk[: chunk.rfind(b"\n") + 1]
    return whole.count(b'{"ack"'), offset + len(whole)


def _healthz() -> int:
    from django.test import Client

    return Client(raise_request_exception=False).get("/healthz", HTTP_HOST="127.0.0.1").status_code


def _what(error: dict[str, Any]) -> str:
    """``OperationalError: Connection refused`` — the driver's last clause, without host and port."""
    first = (error.get("msg") or "").splitlines()[0] if error.get("msg") else ""
    return f"{error['type']}: {first.rsplit('failed: ', 1)[-1][:90]}"


def run_pg_stops(s: Scenario, cluster: faults_pg.PrivateCluster) -> dict[str, Any]:
    from django.db import connections

    writer = WriterProcess(s.ack, first_op=0, seed=s.seed, exec_=False, reconnect=True)
    writer.wait_ready()
    stops: list[float] = []
    starts: list[float] = []
    recoveries: list[float] = []
    health: Counter[int] = Counter()
    _, offset = _count_acks(s.ack, 0)
    t0 = time.perf_counter()
    ok = True
    try:
        for cycle in range(s.cycles):
            time.sleep(s.rng.uniform(*KILL_DELAY_S))
            stops.append(cluster.stop_immediate())
            if cycle % 5 == 0:
                health[_healthz()] += 1
                connections.close_all()
            time.sleep(s.rng.uniform(*DOWN_S))
            starts.append(cluster.start())
            up = time.perf_counter()
            _, offset = _count_acks(s.ack, offset)  # acks written before the stop do not count as recovery
            while True:
                new, offset = _count_acks(s.ack, offset)
                if new:
                    recoveries.append(time.perf_counter() - up)
                    break
                if not writer.alive():
                    raise RuntimeError("the writer died instead of reconnecting")
                if time.perf_counter() - up > READY_TIMEOUT_S:
                    raise RuntimeError(f"no write acknowledged {READY_TIMEOUT_S:.0f} s after the restart")
                time.sleep(0.01)
            if s.due(cycle) and cycle + 1 < s.cycles:
                os.kill(writer.pid, signal.SIGSTOP)  # a still picture for the checker
                try:
                    ok = s.check() and ok
                finally:
                    os.kill(writer.pid, signal.SIGCONT)
                s.progress(cycle, t0)
                if not ok:
                    s.cycles = cycle + 1
                    break
    finally:
        writer.kill()
    wall = time.perf_counter() - t0
    ok = s.check(final=True) and ok
    s.progress(s.cycles - 1, t0)
    from bench.faults_check import read_acks

    seen = Counter(_what(e) for e in read_acks(s.ack).errors)
    return {
        "cycles": s.cycles,
        "stop_immediate": _ms(stops),
        "start_with_recovery": _ms(starts),
        "first_ack_after_start": _ms(recoveries),
        "writer_errors": sum(seen.values()),
        "writer_saw": dict(seen.most_common(12)),
        "healthz_while_down": {str(k): v for k, v in health.items()},
        "wall_seconds": round(wall, 1),
        "cycles_per_s": round(s.cycles / wall, 2),
        "acknowledged_writes_per_s": round(s.last.acknowledged / wall, 1) if s.last else None,
    }


def scenario_main(args: argparse.Namespace) -> int:
    """``--scenario NAME``: set up the database, Django, run, write the summary to ``--out``."""
    name: str = args.scenario
    work = Path(tempfile.mkdtemp(prefix=f"jishi_faults_{name}_"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="jishi.settings",
        JISHI_VAR_DIR=str(work / "var"),
        JISHI_SIGNING_SCRYPT_N_LOG2=SCRYPT_N_LOG2,
        JISHI_LOG_LEVEL="CRITICAL",  # the writer's expected connection errors are recorded, not logged
    )
    cluster: faults_pg.PrivateCluster | None = None
    server_url = os.environ.get("PG_URL") or faults_pg.DEFAULT_PG_URL
    db_name = f"jishi_faults_{os.getpid()}"
    result: dict[str, Any] = {"scenario": name}
    try:
        if name == "sqlite-kill":
            os.environ.pop("DATABASE_URL", None)
            os.environ["JISHI_SQLITE_PATH"] = str(work / "jishi.sqlite3")
        elif name == "pg-kill":
            faults_pg.create_database(server_url, db_name)
            os.environ["DATABASE_URL"] = faults_pg.database_url(server_url, db_name)
        else:
            cluster = faults_pg.PrivateCluster(random.Random(f"{args.seed}:port:{os.getpid()}"))
            cluster.init()
            cluster.start()
            faults_pg.create_database(cluster.url, "jishi_faults")
            os.environ["DATABASE_URL"] = faults_pg.database_url(cluster.url, "jishi_faults")
            result["private_cluster_port"] = cluster.port
        import django

        django.setup()
        s = Scenario(name, args.cycles, args.check_every, args.seed, work)
        t0 = time.perf_counter()
        result["prepare"] = s.prepare()
        print(f"  {name}: database ready in {time.perf_counter() - t0:.1f} s ({result['prepare']})", flush=True)
        s.check()  # the starting world must pass too
        extra = run_pg_stops(s, cluster) if cluster is not None else run_kills(s)
        result.update(s.summary(extra))
    except Exception as exc:
        traceback.print_exc()
        result.update({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]})
        if cluster is not None:
            result["server_log_tail"] = cluster.log_tail()
    finally:
        from django.db import connections

        connections.close_all()
        if name == "pg-kill":
            faults_pg.drop_database(server_url, db_name)
        if cluster is not None:
            cluster.destroy()
        Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
        if result.get("ok"):
            import shutil

            shutil.rmtree(work, ignore_errors=True)  # kept on failure, for the post-mortem
        else:
            print(f"  {name}: work files kept in {work}", file=sys.stderr)
    return 0 if result.get("ok") else 1


# The whole run ---------------------------------------------------------------------------------------


def _shared_server_reachable() -> str | None:
    import psycopg

    url = os.environ.get("PG_URL") or faults_pg.DEFAULT_PG_URL
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 kill cycles per backend, 200 PostgreSQL stops")
    parser.add_argument("--cycles", type=common.positive_int, help="kill -9 cycles per backend (1,000; quick 200)")
    parser.add_argument("--pg-cycles", type=common.positive_int, help="PostgreSQL stops (1,000; quick 200)")
    parser.add_argument("--check-every", type=common.positive_int, help="cycles between checks (quick 20, full 50)")
    parser.add_argument("--seed", type=int, default=20260509)
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    parser.add_argument("--first-op", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--reconnect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer:
        return writer_main(args)
    if args.scenario:
        return scenario_main(args)

    is_quick = args.quick or common.quick()
    if is_quick:
        os.environ["BENCH_QUICK"] = "1"  # recorded by common.machine()
    kill_cycles = args.cycles or (200 if is_quick else 1000)
    pg_cycles = args.pg_cycles or (200 if is_quick else 1000)
    check_every = args.check_every or (20 if is_quick else 50)
    chosen = [n for n in args.only.split(",") if n]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    results: list[dict[str, Any]] = []
    failed = False
    t_all = time.perf_counter()
    for name in chosen:
        if name == "pg-kill":
            why = _shared_server_reachable()
            if why:
                print(f"pg-kill: PostgreSQL not reachable ({why}) — skipped", flush=True)
                results.append({"scenario": name, "skipped": why, "ok": os.environ.get("CI") != "true"})
                failed |= os.environ.get("CI") == "true"
                continue
        cycles = pg_cycles if name == "pg-stop" else kill_cycles
        print(f"{name}: {common.num(cycles)} cycles, check every {check_every}…", flush=True)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            t0 = time.perf_counter()
            code = subprocess.call(
                [sys.executable, "-m", "bench.faults", "--scenario", name, "--out", out.name, "--seed", str(args.seed),
                 "--cycles", str(cycles), "--check-every", str(check_every)],
                cwd=common.ROOT,
            )  # fmt: skip
            text = Path(out.name).read_text()
            result = json.loads(text) if text.strip() else {"scenario": name, "ok": False, "error": "no result"}
            result["scenario_seconds"] = round(time.perf_counter() - t0, 1)
        failed |= code != 0 or not result.get("ok")
        results.append(result)

    print()
    print(_table(results))
    pg_stop = next((r for r in results if r["scenario"] == "pg-stop" and "writer_saw" in r), None)
    if pg_stop:
        print("\nWhat the writer saw while PostgreSQL was down (first line of each exception):")
        for text, count in pg_stop["writer_saw"].items():
            print(f"  {count:>5} × {text}")
        print(f"/healthz while down: {pg_stop['healthz_while_down']}")
    path = common.write_result(
        NAME,
        {
            "kill_cycles": kill_cycles,
            "pg_stop_cycles": pg_cycles,
            "check_every": check_every,
            "seed": args.seed,
            "scrypt_n_log2": int(SCRYPT_N_LOG2),
            "wall_seconds": round(time.perf_counter() - t_all, 1),
            "scenarios": results,
            "ok": not failed,
        },
    )
    print(f"\n0 lost, 0 partial, every chain verifies: {'yes' if not failed else 'NO'}")
    print(f"results: {path}")
    return 1 if failed else 0


def _table(results: list[dict[str, Any]]) -> str:
    def median(r: dict[str, Any], key: str) -> str:
        value = (r.get(key) or {}).get("median_ms")
        return "-" if value is None else f"{value:,.0f} ms"

    rows = []
    for r in results:
        if "skipped" in r or "error" in r:
            why = str(r.get("skipped") or r.get("error", ""))[:60]
            rows.append((r["scenario"], "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", why))
            continue
        rows.append(
            (
                r["scenario"],
                common.num(r["cycles"]),
                common.num(r["acknowledged_writes"]),
                r["lost"],
                r["partial"],
                r["chain_failures"],
                common.num(r["unacknowledged_committed_events"]),
                median(r, "restart_fork"),
                median(r, "restart_exec_django_setup"),
                median(r, "start_with_recovery"),
                median(r, "first_ack_after_start"),
                f"{r['wall_seconds']} s",
            )
        )
    return common.table(
        ["scenario", "cycles", "acked writes", "lost", "partial", "chain fails", "unacked committed",
         "restart fork", "restart exec", "PG start", "1st ack after start", "time"],
        rows,
        title="Fault runs (kill -9 of the writer; pg_ctl stop -m immediate of a private cluster); medians",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
