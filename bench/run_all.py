"""Run every benchmark in order, each in its own process (so peak-RSS readings stay separate), and summarise.

``make bench`` runs this; ``--quick`` (or ``BENCH_QUICK=1``) shrinks every size for a run of a few minutes.
Each benchmark writes ``var/bench/<name>.json``; the summary goes to ``var/bench/run_all.json``, and the whole run
(machine, every benchmark's figures) to ``bench/results/<UTC timestamp>.json`` and ``.md`` (``bench/report.py``).
Exit status is non-zero if any benchmark failed (an unreachable PostgreSQL is a skip, not a failure, unless CI=true).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/run_all.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, report

# The province dataset comes first (reused when already generated with the same arguments: the full one takes
# about an hour on 2 cores); the fault runs come last (the longest after it).
BENCHMARKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dataset", ("--reuse",)),
    ("dataset_repro", ()),
    ("verify_dataset", ()),
    ("verify_dataset_signatures", ()),
    ("verify_chain", ()),
    ("verify_signatures", ()),
    ("append_latency", ()),
    ("archive_package", ()),
    ("write_path", ()),
    ("http_load", ()),
    ("faults", ()),
)


def _earlier_result(path: Path) -> tuple[dict[str, Any], str]:
    if not path.exists():
        return {"failed": f"--reuse-result: {path} does not exist"}, "-"
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(path.stat().st_mtime))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data, when


def _from_results(earlier: dict[str, Any], name: str) -> tuple[dict[str, Any], str]:
    entry = earlier["benchmarks"].get(name) or {}
    data: dict[str, Any] = entry.get("result") or {"failed": f"--reuse-from: no result of {name} there"}
    return data, entry.get("reused_from") or f"the run of {earlier.get('timestamp', '?')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="same as BENCH_QUICK=1: a run of a few minutes")
    parser.add_argument(
        "--reuse-result",
        default="",
        metavar="NAME[,NAME]",
        help="take var/bench/NAME.json from a separate earlier run of that benchmark instead of running it "
        "(e.g. faults, run beside the dataset generation); the report names it and the file's time",
    )
    parser.add_argument(
        "--reuse-from",
        default="",
        metavar="RESULTS.json",
        help="with --reuse-result: those of them with no var/bench/NAME.json come from this earlier results file "
        "(bench/results/…json, e.g. made on another machine); the report names that run's time",
    )
    parser.add_argument(
        "--skip", default="", metavar="NAME[,NAME]", help="leave these benchmarks out (the report says so)"
    )
    args = parser.parse_args(argv)
    reuse = {n for n in args.reuse_result.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    unknown = (reuse | skip) - {name for name, _ in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"  # inherited by every benchmark's process
    earlier = json.loads(Path(args.reuse_from).read_text(encoding="utf-8")) if args.reuse_from else None
    out = common.out_dir()
    started = time.perf_counter()
    results: dict[str, Any] = {}
    for name, extra in BENCHMARKS:
        result_file = out / f"{name}.json"
        if name in skip:
            results[name] = {"exit_code": 0, "seconds": 0.0, "result": {"skipped": "left out of this run (--skip)"}}
            continue
        if name in reuse:
            from_file = earlier is None or result_file.exists()
            data, when = _earlier_result(result_file) if from_file else _from_results(earlier or {}, name)
            print(f"\n=== {name} === reused: {result_file if from_file else args.reuse_from} of {when}", flush=True)
            results[name] = {"exit_code": 0 if data else 1, "seconds": 0.0, "result": data, "reused_from": when}
            continue
        result_file.unlink(missing_ok=True)
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", f"bench.{name}", *extra], cwd=common.ROOT)
        seconds = time.perf_counter() - t0
        data = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
        results[name] = {"exit_code": rc, "seconds": round(seconds, 1), "result": data}

    total = time.perf_counter() - started
    print(f"\n=== summary ({'BENCH_QUICK=1, ' if common.quick() else ''}total {total:.0f} s) ===")
    rows = []
    for name, r in results.items():
        lines = report.summary_lines(name, r["result"]) if r["result"] else ["no result file"]
        status = "ok" if r["exit_code"] == 0 else f"FAILED (exit {r['exit_code']})"
        for i, line in enumerate(lines):
            rows.append(
                (name if i == 0 else "", status if i == 0 else "", f"{r['seconds']:.0f}" if i == 0 else "", line)
            )
    print(common.table(["benchmark", "status", "seconds", "result"], rows))
    path = common.write_result("run_all", {"total_seconds": round(total, 1), "benchmarks": results})
    json_path, md_path = report.write_report(
        {"quick": common.quick(), "total_seconds": round(total, 1), "benchmarks": results}
    )
    print(f"\nresults: {json_path.relative_to(common.ROOT)} and {md_path.name}; scratch: {out}/ ({path.name} …)")
    return 0 if all(r["exit_code"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
