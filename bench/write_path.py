"""The write path on PostgreSQL: completing signed steps through the services, and ledger appends per second.

Creates a throwaway database ``jishi_bench_write_<pid>`` on ``PG_URL`` (dropped ``WITH (FORCE)`` afterwards),
migrates it and builds the test world (``jishi.core.testing.build_world``: signing keys sealed at the
production cost ``SIGNING_SCRYPT_N_LOG2``, default 15). Then:

1. **Step completions.** Batches of two fresh cadres are taken through the standard procedure step by step with
   ``jishi.selection.walk.walk_step`` — the services a clerk's clicks call: start, save the fields, tallies,
   materials and notebook entries, each signer's ``step_confirm`` (PIN → scrypt → Ed25519 → ledger event) and
   ``step_complete`` — until ``--completions`` steps carrying at least one signature are done. Timed per step:
   the whole step, and "sign + complete" (every ``step_confirm`` plus ``step_complete``); the time spent in
   scrypt (``signing.open_private_key``) is measured inside them and reported both included and excluded.
   scrypt and Ed25519 alone are timed too. Archive volumes are not built on the last step
   (``JISHI_ARCHIVE_AUTO_BUILD=false``: it needs document certificates; ``archive_package`` measures export).
2. **Ledger appends per second** with 1 writer on 1 fonds and 4 writers on 4 fonds at once (threads, each
   with its own connection; ``bench.append_latency.run_config``), checkpoints every 100 events as deployed.
   Baseline, same database, same run: one-row ``INSERT`` + ``COMMIT`` of the same JSON payloads through plain
   psycopg on 1 and 4 connections (commits are what bounds an append); appends are reported as a ratio to it,
   and the p50 of sign + complete (without scrypt) as a multiple of one raw commit.

Afterwards every chain is re-verified in full (``selectors.chain_verify``) and checked for gaps; any problem
fails the benchmark. If PostgreSQL cannot be reached it is skipped (exit 0) unless ``CI=true``.

Run: ``python -m bench.write_path [--quick] [--completions N] [--appends N]``; results in
``var/bench/write_path.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

if __package__ in (None, ""):  # run as a script: python bench/write_path.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

NAME = "write_path"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CHECKPOINT_EVERY = 100  # the deployed default (JISHI_LEDGER_CHECKPOINT_EVERY)


class Timer:
    """Wraps a function in place and adds up the seconds spent in it (the benchmark runs one thread here)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name = owner, name
        self.original: Callable[..., Any] = getattr(owner, name)
        self.seconds = 0.0
        self.calls = 0

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls += 1

        setattr(owner, name, timed)

    def take(self) -> float:
        seconds, self.seconds = self.seconds, 0.0
        return seconds


def stats_ms(values_s: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values_s)
    return {
        "p50_ms": round(common.percentile(ms, 50), 2),
        "p90_ms": round(common.percentile(ms, 90), 2),
        "p99_ms": round(common.percentile(ms, 99), 2),
        "max_ms": round(ms[-1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def complete_steps(world: Any, completions: int) -> dict[str, Any]:
    from django.utils import timezone

    from jishi.cadres.services import cadre_create
    from jishi.core.testing import SIGNING_PIN, cadre_data
    from jishi.ledger import signing
    from jishi.selection import services, transitions
    from jishi.selection.selectors import batch_state
    from jishi.selection.walk import walk_step

    scrypt = Timer(signing, "open_private_key")
    confirm = Timer(services, "step_confirm")
    complete = Timer(services, "step_complete")
    signers = world.signers()
    rows: list[dict[str, Any]] = []
    batches = 0
    t_all = time.perf_counter()
    while len(rows) < completions:
        batches += 1
        batch = services.batch_create(
            actor=world.alice,
            org_unit=world.city,
            title=f"基准测试批次 {batches}",
            positions=[world.positions[0]],
            reason="性能基准：按标准流程办理。",
        )
        for k in range(2):
            cadre = cadre_create(actor=None, org_unit=world.city, data=cadre_data(f"测试{batches}-{k}"))
            services.nomination_add(actor=world.alice, batch=batch, cadre=cadre, position=world.positions[0])
        definition = batch.procedure.definition
        order = {s.id: i for i, s in enumerate(definition.steps())}
        while len(rows) < completions:
            available = transitions.available_steps(definition, batch_state(batch))
            if not available:
                break
            noms = {n.pk: n for n in batch.nominations.all()}
            step_id, nom_pk = min(available, key=lambda t: (order[t[0]], t[1] or 0))
            step = definition.step(step_id)
            scrypt.take(), confirm.take(), complete.take()
            t0 = time.perf_counter()
            walk_step(
                batch=batch,
                step_id=step_id,
                nomination=noms[nom_pk] if nom_pk else None,
                actor=world.alice,
                signers=signers,
                pin=SIGNING_PIN,
                base=timezone.localdate(),
            )
            total = time.perf_counter() - t0
            if step.signer_roles:  # only steps completed *with* a signature count
                rows.append(
                    {
                        "step": step_id,
                        "signatures": len(step.signer_roles),
                        "total": total,
                        "sign_complete": confirm.take() + complete.take(),
                        "scrypt": scrypt.take(),
                    }
                )
    wall = time.perf_counter() - t_all
    total = [r["total"] for r in rows]
    sign = [r["sign_complete"] for r in rows]
    scr = [r["scrypt"] for r in rows]
    return {
        "completions": len(rows),
        "batches": batches,
        "signatures": sum(r["signatures"] for r in rows),
        "wall_seconds": round(wall, 2),
        "step_whole_incl_scrypt": stats_ms(total),
        "step_whole_excl_scrypt": stats_ms([t - s for t, s in zip(total, scr, strict=True)]),
        "sign_and_complete_incl_scrypt": stats_ms(sign),
        "sign_and_complete_excl_scrypt": stats_ms([t - s for t, s in zip(sign, scr, strict=True)]),
        "scrypt_per_step": stats_ms(scr),
    }


def crypto_alone(samples: int) -> dict[str, Any]:
    """scrypt at the configured cost and Ed25519 signing, without the database."""
    from django.conf import settings

    from jishi.ledger import signing

    pair = signing.generate_keypair()
    sealed = signing.seal_private_key(pair.private_key, "739146", n_log2=settings.SIGNING_SCRYPT_N_LOG2)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        signing.open_private_key(sealed, "739146")
        times.append(time.perf_counter() - t0)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(pair.private_key)
    t0 = time.perf_counter()
    for i in range(1000):
        key.sign(i.to_bytes(32, "big"))
    ed = (time.perf_counter() - t0) / 1000
    return {
        "scrypt_n_log2": settings.SIGNING_SCRYPT_N_LOG2,
        "scrypt_unseal": stats_ms(times),
        "ed25519_sign_ms": round(ed * 1000, 4),
    }


def appends(count: int, users: list[Any]) -> list[dict[str, Any]]:
    from bench.append_latency import Config, run_config

    out = []
    for config in (
        Config("1 writer, 1 fonds", 1, ("A1F1",), CHECKPOINT_EVERY),
        Config("4 writers, 4 fonds at once", 4, ("A4F1", "A4F2", "A4F3", "A4F4"), CHECKPOINT_EVERY),
    ):
        print(f"  ledger appends, {config.label}: {common.num(count)} …", flush=True)
        outcome = run_config(config, count, users)
        if outcome.errors:
            raise SystemExit("write_path: " + "; ".join(outcome.errors))
        out.append(outcome.summary())
    return out


def raw_commits(url: str, count: int, writers: int) -> dict[str, Any]:
    """The baseline for appends: one-row INSERT + COMMIT of the same JSON payloads, psycopg, no Django."""
    import json
    import random
    import threading

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_raw_commit (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(writers + 1)

    def writer(index: int) -> None:
        rng = random.Random(index)
        bodies = [json.dumps(common.event_content(rng, k)[3], ensure_ascii=False) for k in range(count // writers)]
        mine = []
        with psycopg.connect(url) as conn:
            conn.execute("SELECT 1")
            conn.commit()
            barrier.wait()
            for body in bodies:
                t0 = time.perf_counter()
                conn.execute("INSERT INTO bench_raw_commit (body) VALUES (%s)", (body,))
                conn.commit()
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"writers": writers, "commits": len(latencies), "commits_per_s": round(len(latencies) / wall, 1),
            **stats_ms(latencies)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="same as BENCH_QUICK=1")
    parser.add_argument("--completions", type=common.positive_int, default=None, help="signed steps (50 quick, 500)")
    parser.add_argument("--appends", type=common.positive_int, default=None, help="appends per config (200, 5,000)")
    args = parser.parse_args(argv)
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"
    quick = common.quick()
    completions: int = args.completions or int(os.environ.get("BENCH_COMPLETIONS") or (50 if quick else 500))
    append_count: int = args.appends or int(os.environ.get("BENCH_WRITE_APPENDS") or (200 if quick else 5_000))
    admin_url = os.environ.get("PG_URL") or DEFAULT_PG_URL
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        message = f"write_path: PostgreSQL at {admin_url} is not reachable ({type(exc).__name__})"
        ci = os.environ.get("CI") == "true"
        print(message + ("; CI=true requires it" if ci else " — skipped"), file=sys.stderr if ci else sys.stdout)
        common.write_result(NAME, {"failed" if ci else "skipped": message})
        return 1 if ci else 0

    started = time.perf_counter()
    db_name = f"jishi_bench_write_{os.getpid()}"
    with admin:
        server = admin.execute("SHOW server_version").fetchone()
        sync = admin.execute("SHOW synchronous_commit").fetchone()
        admin.execute(f'CREATE DATABASE "{db_name}"')
        try:
            os.environ["DATABASE_URL"] = urlunsplit(urlsplit(admin_url)._replace(path="/" + db_name))
            os.environ["JISHI_LEDGER_CHECKPOINT_EVERY"] = str(CHECKPOINT_EVERY)
            os.environ["JISHI_ARCHIVE_AUTO_BUILD"] = "false"
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
            import django

            django.setup()
            from django.core.management import call_command
            from django.db import connections

            from bench.append_latency import check_chains
            from jishi.core.testing import build_world

            print(f"write_path: PostgreSQL {server[0] if server else '?'}, database {db_name}", flush=True)
            call_command("migrate", verbosity=0, interactive=False)
            world = build_world()
            print(f"  crypto alone (scrypt N=2**{os.environ.get('JISHI_SIGNING_SCRYPT_N_LOG2', '15')}) …", flush=True)
            crypto = crypto_alone(5 if quick else 30)
            print(f"  {completions} signed step completions …", flush=True)
            steps = complete_steps(world, completions)
            ledger = appends(append_count, [world.alice, world.bob, world.carol, world.dave])
            print("  baseline: raw INSERT + COMMIT, 1 and 4 connections …", flush=True)
            raw = [raw_commits(os.environ["DATABASE_URL"], append_count, w) for w in (1, 4)]
            for c, b in zip(ledger, raw, strict=True):
                c["raw_commits_per_s"] = b["commits_per_s"]
                c["ratio_to_raw_commits"] = round(c["appends_per_s"] / b["commits_per_s"], 3)
            steps["sign_and_complete_excl_scrypt_p50_over_raw_commit_p50"] = round(
                steps["sign_and_complete_excl_scrypt"]["p50_ms"] / raw[0]["p50_ms"], 1
            )
            chains = check_chains()
            connections.close_all()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')

    bad = [c for c in chains if not c["ok"]]
    print()
    rows = [
        (label, f"{s['p50_ms']:.1f}", f"{s['p99_ms']:.1f}", f"{s['mean_ms']:.1f}")
        for label, s in (
            ("whole step, incl. scrypt", steps["step_whole_incl_scrypt"]),
            ("whole step, excl. scrypt", steps["step_whole_excl_scrypt"]),
            ("sign + complete, incl. scrypt", steps["sign_and_complete_incl_scrypt"]),
            ("sign + complete, excl. scrypt", steps["sign_and_complete_excl_scrypt"]),
            ("scrypt per step", steps["scrypt_per_step"]),
            ("scrypt unseal alone", crypto["scrypt_unseal"]),
        )
    ]
    print(
        common.table(
            ["measure", "p50 ms", "p99 ms", "mean ms"],
            rows,
            title=f"{steps['completions']} signed step completions ({steps['signatures']} signatures, "
            f"{steps['batches']} batches, {steps['wall_seconds']:.0f} s); Ed25519 sign {crypto['ed25519_sign_ms']} ms",
        )
    )
    print()
    print(
        common.table(
            ["configuration", "appends/s", "p50 ms", "p99 ms", "raw commits/s", "÷ raw"],
            [
                (
                    c["label"],
                    common.num(c["appends_per_s"]),
                    f"{c['p50_ms']:.2f}",
                    f"{c['p99_ms']:.2f}",
                    common.num(c["raw_commits_per_s"]),
                    f"{c['ratio_to_raw_commits']:.2f}",
                )
                for c in ledger
            ],
            title=f"ledger appends, checkpoint every {CHECKPOINT_EVERY} "
            f"(synchronous_commit={sync[0] if sync else '?'})",
        )
    )
    four_over_one = round(ledger[1]["appends_per_s"] / ledger[0]["appends_per_s"], 2)
    print(
        f"\n4 fonds / 1 fonds throughput: {four_over_one}x; {len(chains)} chains verify: {'yes' if not bad else 'NO'}"
    )
    path = common.write_result(
        NAME,
        {
            "postgresql": server[0] if server else None,
            "synchronous_commit": sync[0] if sync else None,
            "crypto": crypto,
            "steps": steps,
            "ledger_appends": ledger,
            "raw_commits": raw,
            "four_fonds_over_one_ratio": four_over_one,
            "chains": chains,
            "chains_ok": not bad,
            "total_seconds": round(time.perf_counter() - started, 1),
        },
    )
    print(f"results: {path}")
    if bad:
        print(f"write_path: chains failed verification: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
