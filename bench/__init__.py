"""Benchmarks for the ledger (speed goals live here, never as timed assertions in tests).

Run them all with ``make bench`` (``BENCH_QUICK=1 make bench`` for a smoke run); see ``docs/benchmarks.md``.
"""
