"""The province dataset (issue #9 item 1): ten years of a province's cadre selection work on PostgreSQL.

``full`` = 150 fonds (1 province + 20 cities + 129 counties, parent links), 200,000 cadres, 30,000 batches,
120,000 nominations, every step of the standard procedure done for each (content, materials, notebook entries,
vote tallies, confirmations signed by personal Ed25519 keys), 500,000 small material files; ``quick`` = 1/100,
an integer N = N/1000 of full (at least 3 fonds).

Rows are built in Python and written with ``COPY`` — no service call per event — yet the chains are the ones
the services would write: same payloads, hashes, links, Merkle frontier, automatic checkpoints signed by each
unit's system key, personal keys published by ``signing_key.enrol`` events. Two worker processes build
different fonds in parallel. ``random.Random`` is seeded per fonds, so two runs give identical event hashes
(on one machine: ``cadre.create`` carries an ID-number lookup hash keyed by the server's field key).

Afterwards 3 random fonds are verified in full with ``ledger.selectors.chain_verify`` (hashes, links,
signatures, checkpoints, head, material files) and the row counts are checked; any failure exits non-zero.

Run::

    python -m bench.dataset --database-url postgres://postgres@127.0.0.1:5432/postgres --scale quick
    python -m bench.dataset --scale 100 --reuse        # keep a database already generated with these args

The database is ``jishi_dataset_<scale>`` on that server; materials go to ``--materials-dir`` (default
``var/bench/dataset-<scale>/materials``), which is ``JISHI_MEDIA_ROOT`` for anything serving the dataset.
Other benchmarks call ``create_database`` and ``generate`` (or ``ensure``, which does both and reuses).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.json import Jsonb

if __package__ in (None, ""):  # run as a script: python bench/dataset.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.dataset_plan import Context, Plan, make_plan, parse_scale, scale_label

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "jishi_dataset_"
INFO_TABLE = "bench_dataset_info"
GENERATOR_VERSION = 1  # bump when the rows change: a stored dataset of another version is not reused
VERIFY_FONDS = 3
WORKERS = 2
SEQUENCED_TABLES = [
    "accounts_orgunit",
    "accounts_user",
    "accounts_roleassignment",
    "accounts_signingkey",
    "ledger_systemkey",
    "ledger_chain",
    "ledger_event",
    "ledger_signature",
    "ledger_checkpoint",
    "cadres_position",
    "cadres_cadre",
    "selection_batch",
    "selection_batch_positions",
    "selection_nomination",
    "selection_steprecord",
    "selection_notebookentry",
    "selection_material",
    "selection_votetally",
    "selection_voteline",
    "selection_confirmation",
]


# Secondary indexes and unique constraints of these tables are dropped while COPY runs and built again
# afterwards: one sort per index instead of millions of random b-tree inserts. Rebuilding a unique index
# also re-checks uniqueness (duplicate hashes or seqs would fail the run).
DEFERRED_INDEX_TABLES = [
    "ledger_event", "ledger_signature", "ledger_checkpoint", "cadres_cadre", "selection_nomination",
    "selection_steprecord", "selection_confirmation", "selection_material", "selection_notebookentry",
    "selection_votetally", "selection_voteline",
]  # fmt: skip


class DatasetError(RuntimeError):
    """The generated dataset failed a check (chain does not verify, counts differ)."""


# Databases ---------------------------------------------------------------------------------------------


def database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def database_name(scale: float) -> str:
    return DB_PREFIX + scale_label(scale)


def django_env(url: str, materials_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE="jishi.settings")
    if materials_dir is not None:
        env["JISHI_MEDIA_ROOT"] = str(materials_dir)
    return env


def create_database(server_url: str, scale: float, *, name: str | None = None) -> str:
    """(Re)create ``jishi_dataset_<scale>`` empty and migrated; returns its URL. Drops only that name."""
    name = name or database_name(scale)
    if not name.startswith(DB_PREFIX):
        raise ValueError(f"dataset databases are named {DB_PREFIX}…, not {name!r}")
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(server_url, name)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0", "--no-input"],
        env=django_env(url),
        cwd=ROOT,
        check=True,
    )
    return url


def stored_info(url: str) -> dict[str, Any] | None:
    """What a previous ``generate`` recorded in this database (None if nothing, or no such database)."""
    try:
        with psycopg.connect(url) as conn:
            exists = conn.execute("SELECT to_regclass(%s)", (INFO_TABLE,)).fetchone()
            if not exists or exists[0] is None:
                return None
            row = conn.execute(f"SELECT info FROM {INFO_TABLE} WHERE key = 'dataset'").fetchone()
            return dict(row[0]) if row else None
    except psycopg.OperationalError:
        return None


def _same_args(info: dict[str, Any] | None, args: dict[str, Any]) -> bool:
    return bool(info) and all(info.get("args", {}).get(k) == v for k, v in args.items())  # type: ignore[union-attr]


# Child processes ---------------------------------------------------------------------------------------


def _django(url: str, materials_dir: str) -> None:
    os.environ.update(django_env(url, Path(materials_dir)))
    import django

    django.setup()


def _setup(url: str, materials_dir: str, plan_json: dict[str, Any]) -> dict[str, Any]:
    """In a child: the procedure (through its service: it has its own SYS chain), org units, a password hash."""
    _django(url, materials_dir)
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from jishi.accounts.models import OrgUnit
    from jishi.core.testing import PASSWORD, SIGNING_PIN
    from jishi.procedures.loader import bundled_path, load_file
    from jishi.procedures.services import procedure_version_register

    version, _ = procedure_version_register(loaded=load_file(bundled_path("standard")), actor=None)
    from bench.dataset_plan import FondsPlan

    fonds = [FondsPlan(**f) for f in plan_json["fonds"]]
    # Parents first (the province, then cities, then counties): the FK is checked row by row.
    for f in fonds:
        OrgUnit.objects.create(
            id=f.base,
            code=f.code,
            name=f.name,
            short_name=f.name.replace("委组织部", ""),
            parent_id=fonds[f.parent_index].base if f.parent_index is not None else None,
        )
    return {
        "procedure_id": version.pk,
        "procedure": {"code": version.code, "version": version.version, "sha256": version.sha256},
        "password_hash": make_password(PASSWORD),
        "pin": SIGNING_PIN,
        "scrypt_n_log2": settings.SIGNING_SCRYPT_N_LOG2,
        "checkpoint_every": settings.LEDGER_CHECKPOINT_EVERY,
    }


def _verify(url: str, materials_dir: str, codes: list[str], expected: dict[str, int]) -> dict[str, Any]:
    """In a child: chain_verify on the chosen fonds (keys learned from their own chains) and row counts."""
    _django(url, materials_dir)
    from jishi.cadres.models import Cadre
    from jishi.ledger import selectors
    from jishi.ledger.models import Chain, Event
    from jishi.ledger.verify import collect_keys
    from jishi.selection.models import Batch, Material, Nomination

    problems: list[str] = []
    chains = list(Chain.objects.filter(fonds__in=codes).order_by("fonds"))
    keys = collect_keys(selectors.key_rows(c) for c in chains)
    verified = []
    for chain in chains:
        started = time.perf_counter()
        broken = selectors.chain_verify(chain, keys=keys, check_files=True)
        seconds = time.perf_counter() - started
        verified.append({"fonds": chain.fonds, "events": chain.seq, "seconds": round(seconds, 2), "ok": broken is None})
        if broken is not None:
            problems.append(f"chain {chain.fonds} does not verify: {broken}")
    ours = Event.objects.exclude(chain__fonds="SYS")
    counts = {
        "cadres": Cadre.objects.count(),
        "batches": Batch.objects.count(),
        "nominations": Nomination.objects.count(),
        "events": ours.count(),
        "materials": Material.objects.count(),
        "material_files": Material.objects.exclude(sha256="").count(),
    }
    for key, want in expected.items():
        if counts.get(key) != want:
            problems.append(f"{key}: {counts.get(key)} rows, expected {want}")
    heads = Chain.objects.exclude(fonds="SYS").values_list("fonds", "seq")
    seq_total = sum(seq for _, seq in heads)
    if seq_total != counts["events"]:
        problems.append(f"chain heads add up to {seq_total} events, the table holds {counts['events']}")
    return {"verified": verified, "counts": counts, "problems": problems}


def _worker_init(url: str, materials_dir: str) -> None:
    _django(url, materials_dir)


def _build(job: tuple[Any, ...]) -> dict[str, Any]:
    from bench.dataset_fonds import build_fonds  # imports models: only after django.setup()

    return build_fonds(job)  # type: ignore[arg-type]


def _drop_indexes(url: str) -> list[str]:
    """Drop the deferred indexes; returns the statements that recreate them (biggest tables first)."""
    statements: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for table in DEFERRED_INDEX_TABLES:
            constraints = conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'u'",
                (table,),
            ).fetchall()
            indexes = conn.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
                " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                (table,),
            ).fetchall()
            for name, definition in constraints:
                conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                statements.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            for name, definition in indexes:
                conn.execute(f'DROP INDEX "{name}"')
                statements.append(definition)
    return statements


def _rebuild_indexes(url: str, statements: list[str], workers: int) -> None:
    """Recreate the dropped indexes, ``workers`` connections at a time."""
    import queue
    import threading

    todo: queue.Queue[str] = queue.Queue()
    for statement in statements:
        todo.put(statement)
    errors: list[str] = []

    def run() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            while True:
                try:
                    statement = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    conn.execute(statement)  # type: ignore[arg-type]
                except psycopg.Error as exc:
                    errors.append(f"{statement}: {exc}")

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise DatasetError("rebuilding indexes failed: " + "; ".join(errors))


# Generation --------------------------------------------------------------------------------------------


def context(
    url: str, materials_dir: str, seed: int, setup: dict[str, Any], plan: Plan, complete_share: float
) -> Context:
    """What every fonds worker needs: the database, the seed and what ``_setup`` made."""
    return Context(
        database_url=url,
        materials_dir=materials_dir,
        seed=seed,
        procedure_id=setup["procedure_id"],
        procedure=setup["procedure"],
        password_hash=setup["password_hash"],
        pin=setup["pin"],
        scrypt_n_log2=setup["scrypt_n_log2"],
        checkpoint_every=setup["checkpoint_every"],
        material_file_share=plan.material_file_share,
        complete_share=complete_share,
    )


def _plan(scale: float, seed: int, complete_share: float) -> Plan:
    from jishi.procedures.loader import bundled_path, load_file
    from jishi.procedures.schema import ItemKind, Scope

    definition = load_file(bundled_path("standard")).definition
    per = {Scope.BATCH: 0, Scope.NOMINATION: 0}
    for step in definition.steps():
        per[step.scope] += sum(1 for i in definition.items_of(step.id) if i.kind == ItemKind.MATERIAL)
    return make_plan(
        scale,
        seed,
        materials_per_batch=per[Scope.BATCH],
        materials_per_nomination=per[Scope.NOMINATION],
        complete_share=complete_share,
    )


def generate(
    database_url: str,
    scale: float,
    seed: int,
    materials_dir: Path,
    progress: Callable[[str], None] = print,
    *,
    reuse: bool = True,
    complete_share: float = 1.0,
    workers: int = WORKERS,
) -> dict[str, Any]:
    """Fill the empty, migrated database at ``database_url``; returns what was generated (also stored in it).

    With ``reuse`` a database that already holds a dataset made with the same arguments is returned as is.
    Raises ``DatasetError`` if the verification afterwards fails.
    """
    materials_dir = Path(materials_dir).resolve()
    args = {
        "scale": scale,
        "seed": seed,
        "materials_dir": str(materials_dir),
        "complete_share": complete_share,
        "generator": GENERATOR_VERSION,
    }
    info = stored_info(database_url)
    if info is not None:
        if reuse and _same_args(info, args) and (materials_dir / "dataset.json").exists():
            progress(f"dataset: reusing {urlsplit(database_url).path[1:]} ({info['totals']})")
            return {**info, "reused": True}
        raise DatasetError("the database already holds a dataset made with other arguments; create_database() first")
    materials_dir.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    plan = _plan(scale, seed, complete_share)
    totals = plan.totals()
    progress(f"dataset: scale {scale_label(scale)} seed {seed} — {totals}")

    ctx_spawn = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with ctx_spawn.Pool(1) as pool:
        setup = pool.apply(_setup, (database_url, str(materials_dir), plan.to_json()))
    phases["setup"] = time.perf_counter() - started

    ctx = context(database_url, str(materials_dir), seed, setup, plan, complete_share)
    # Biggest fonds first so the two workers finish together.
    order = sorted(plan.fonds, key=lambda f: -sum(f.nominations_per_batch))
    started = time.perf_counter()
    deferred = _drop_indexes(database_url)
    phases["drop_indexes"] = time.perf_counter() - started
    jobs = [(f, plan.fonds[f.parent_index].code if f.parent_index is not None else None, ctx) for f in order]
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    events = 0
    with ctx_spawn.Pool(workers, initializer=_worker_init, initargs=(database_url, str(materials_dir))) as pool:
        for result in pool.imap_unordered(_build, jobs):
            results.append(result)
            events += result["events"]
            elapsed = time.perf_counter() - started
            progress(
                f"dataset: fonds {len(results)}/{len(jobs)} {result['fonds']} {result['events']:,} events "
                f"in {result['seconds']:.1f}s — total {events:,} events, {events / elapsed:,.0f} events/s"
            )
    phases["generate"] = time.perf_counter() - started

    started = time.perf_counter()
    _rebuild_indexes(database_url, deferred, workers)
    phases["rebuild_indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in SEQUENCED_TABLES:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
            )
        conn.execute("VACUUM (ANALYZE)")
    phases["finalize"] = time.perf_counter() - started

    expected = {
        "cadres": totals["cadres"],
        "batches": totals["batches"],
        "nominations": totals["nominations"],
        "events": events,
        "materials": sum(r["rows"].get("selection_material", 0) for r in results),
        "material_files": sum(r["material_files"] for r in results),
    }
    codes = random.Random(f"{seed}:verify").sample([f.code for f in plan.fonds], min(VERIFY_FONDS, len(plan.fonds)))
    started = time.perf_counter()
    with ctx_spawn.Pool(1) as pool:
        check = pool.apply(_verify, (database_url, str(materials_dir), codes, expected))
    phases["verify"] = time.perf_counter() - started
    for v in check["verified"]:
        verdict = "ok" if v["ok"] else "BROKEN"
        progress(f"dataset: verified {v['fonds']}: {v['events']:,} events in {v['seconds']}s — {verdict}")
    with psycopg.connect(database_url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    phases["total"] = time.perf_counter() - t0
    worker_time = {k: round(sum(r["timings"][k] for r in results), 1) for k in ("build", "copy", "files")}
    info = {
        "args": args,
        "totals": {
            **totals,
            "events": events,
            "signatures": sum(r["signatures"] for r in results),
            "checkpoints": sum(r["checkpoints"] for r in results),
            "step_records": sum(r["rows"].get("selection_steprecord", 0) for r in results),
            "confirmations": sum(r["rows"].get("selection_confirmation", 0) for r in results),
            "materials": expected["materials"],
            "material_files": expected["material_files"],
            "material_bytes": sum(r["material_bytes"] for r in results),
        },
        "fonds": [f.code for f in plan.fonds],
        "heads": {r["fonds"]: r["head"] for r in results},
        "phases_s": {k: round(v, 1) for k, v in phases.items()},
        "worker_cpu_s": worker_time,
        "events_per_s": round(events / phases["generate"]) if phases["generate"] else None,
        "db_size_bytes": size[0] if size else None,
        "verified": check["verified"],
        "counts": check["counts"],
        "problems": check["problems"],
        "users": {"password": "jishi.core.testing.PASSWORD", "pin": "jishi.core.testing.SIGNING_PIN"},
        "materials_dir": str(materials_dir),
        "machine": common.machine(),
    }
    if check["problems"]:
        raise DatasetError("; ".join(check["problems"]))
    with psycopg.connect(database_url) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {INFO_TABLE} (key text PRIMARY KEY, info jsonb NOT NULL)")
        conn.execute(
            f"INSERT INTO {INFO_TABLE} (key, info) VALUES ('dataset', %s)"
            " ON CONFLICT (key) DO UPDATE SET info = EXCLUDED.info",
            (Jsonb(info),),
        )
    (materials_dir / "dataset.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    return {**info, "reused": False}


def ensure(
    server_url: str,
    scale: float,
    seed: int = 2026,
    materials_dir: Path | None = None,
    progress: Callable[[str], None] = print,
) -> tuple[str, dict[str, Any]]:
    """The dataset database for these arguments, generated only if not there yet: (database URL, info)."""
    materials_dir = Path(materials_dir or default_materials_dir(scale)).resolve()
    url = database_url(server_url, database_name(scale))
    wanted = {
        "scale": scale,
        "seed": seed,
        "materials_dir": str(materials_dir),
        "complete_share": 1.0,
        "generator": GENERATOR_VERSION,
    }
    if not (_same_args(stored_info(url), wanted) and (materials_dir / "dataset.json").exists()):
        url = create_database(server_url, scale)
    return url, generate(url, scale, seed, materials_dir, progress)


def default_materials_dir(scale: float) -> Path:
    return common.out_dir() / f"dataset-{scale_label(scale)}" / "materials"


def _report(info: dict[str, Any], url: str) -> str:
    t = info["totals"]
    rows = [[k, f"{v:,}" if isinstance(v, int) else v] for k, v in t.items()]
    rows.append(["database", urlsplit(url).path[1:]])
    rows.append(["database size", f"{(info['db_size_bytes'] or 0) / 2**20:,.0f} MiB"])
    rows.append(["materials dir", info["materials_dir"]])
    out = common.table(["what", "count"], rows, title="Province dataset")
    phases = [[k, f"{v:,.1f}"] for k, v in info["phases_s"].items()]
    phases += [[f"workers: {k} (CPU-ish, summed)", f"{v:,.1f}"] for k, v in info["worker_cpu_s"].items()]
    phases.append(["events/s (generate phase)", f"{info['events_per_s']:,}"])
    return out + "\n" + common.table(["phase", "seconds"], phases, title="Generation time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PG_URL") or DEFAULT_PG_URL,
        help="server URL (any database on it); the dataset goes to jishi_dataset_<scale>",
    )
    parser.add_argument(
        "--scale",
        default="quick" if common.quick() else "full",
        help="quick (1/100; the default with BENCH_QUICK=1), full (the default), or N (N/1000 of full)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--materials-dir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep a dataset already generated with these args")
    parser.add_argument(
        "--complete-share",
        type=float,
        default=1.0,
        help="share of batches walked through all 44 steps (the rest stop part-way); default 1",
    )
    args = parser.parse_args(argv)
    scale = parse_scale(args.scale)
    materials_dir = (args.materials_dir or default_materials_dir(scale)).resolve()
    url = database_url(args.database_url, database_name(scale))
    wanted = {
        "scale": scale,
        "seed": args.seed,
        "materials_dir": str(materials_dir),
        "complete_share": args.complete_share,
        "generator": GENERATOR_VERSION,
    }
    try:
        if not (args.reuse and _same_args(stored_info(url), wanted)):
            print(f"dataset: creating and migrating {database_name(scale)}")
            started = time.perf_counter()
            url = create_database(args.database_url, scale)
            migrate_s = time.perf_counter() - started
        else:
            migrate_s = 0.0
        info = generate(url, scale, args.seed, materials_dir, reuse=args.reuse, complete_share=args.complete_share)
    except DatasetError as exc:
        print(f"dataset: FAILED — {exc}", file=sys.stderr)
        return 1
    info["phases_s"] = {"create+migrate": round(migrate_s, 1), **info["phases_s"]}
    print(_report(info, url))
    common.write_result(f"dataset_{scale_label(scale)}", info)
    common.write_result("dataset", info)  # the name run_all collects
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
