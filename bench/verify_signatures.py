"""Ed25519 verification throughput: ``signing.verify`` against raw ``cryptography`` on both cores.

N signatures (default 200,000; ``BENCH_SIGNATURES`` or ``--signatures``) by 200 signers over
``signing.event_signature_message`` messages; one in every 1,000 messages is altered after signing, so each
pass must find exactly that many failures. The data is built before the pool starts and reaches the workers
by ``fork``, so a task is just an index range and no signature data crosses a pipe while timing.

Passes, each over all N signatures in a ``multiprocessing.Pool(2)`` (chunks of 1,000), best of ``--rounds``:

* ``signing.verify(public_key_bytes, message, signature)`` — what the verifier calls (parses the key every time);
* raw ``Ed25519PublicKey.verify`` with the key objects parsed once per worker (the floor);
* raw ``Ed25519PublicKey.from_public_bytes(...).verify`` (the floor plus key parsing, to show where time goes);

plus ``signing.verify`` in this one process without a pool (for the scaling across cores).

Run: ``python -m bench.verify_signatures [--signatures N] [--rounds R]``;
results in ``var/bench/verify_signatures.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

if __package__ in (None, ""):  # run as a script: python bench/verify_signatures.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from jishi.ledger import signing

NAME = "verify_signatures"
SIGNERS = 200
CHUNK = 1000
TAMPER_EVERY = 1000
WORKERS = 2

# Filled in before the pools fork; workers read them by index.
_KEYS: list[signing.KeyPair] = []
_KEY_OF: list[int] = []
_MESSAGES: list[bytes] = []
_SIGNATURES: list[bytes] = []
_PUBLIC: list[bytes] = []
_KEY_OBJECTS: list[Ed25519PublicKey] = []  # per worker, parsed in the initializer
_PRIVATE: list[Ed25519PrivateKey] = []  # per signing worker


def _build_messages(n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    _KEYS[:] = [signing.generate_keypair() for _ in range(SIGNERS)]
    fonds = [f"J{i:03d}" for i in range(1, 11)]
    _KEY_OF[:] = [rng.randrange(SIGNERS) for _ in range(n)]
    _MESSAGES[:] = [
        signing.event_signature_message(
            fonds=rng.choice(fonds),
            seq=i + 1,
            event_hash=hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
            role=rng.choice(common.ROLES),
        )
        for i in range(n)
    ]
    _PUBLIC[:] = [_KEYS[k].public_key for k in _KEY_OF]


def _sign_range(bounds: tuple[int, int]) -> list[bytes]:
    if not _PRIVATE:
        _PRIVATE[:] = [Ed25519PrivateKey.from_private_bytes(k.private_key) for k in _KEYS]
    return [_PRIVATE[_KEY_OF[i]].sign(_MESSAGES[i]) for i in range(*bounds)]


def _init_worker() -> None:
    _KEY_OBJECTS[:] = [Ed25519PublicKey.from_public_bytes(k.public_key) for k in _KEYS]


def _noop(_: int) -> int:
    return 0


def verify_with_signing(bounds: tuple[int, int]) -> int:
    verify, public, messages, signatures = signing.verify, _PUBLIC, _MESSAGES, _SIGNATURES
    return sum(verify(public[i], messages[i], signatures[i]) for i in range(*bounds))


def verify_raw(bounds: tuple[int, int]) -> int:
    keys, key_of, messages, signatures = _KEY_OBJECTS, _KEY_OF, _MESSAGES, _SIGNATURES
    ok = 0
    for i in range(*bounds):
        try:
            keys[key_of[i]].verify(signatures[i], messages[i])
            ok += 1
        except InvalidSignature:
            pass
    return ok


def verify_raw_parse(bounds: tuple[int, int]) -> int:
    load, public, messages, signatures = Ed25519PublicKey.from_public_bytes, _PUBLIC, _MESSAGES, _SIGNATURES
    ok = 0
    for i in range(*bounds):
        try:
            load(public[i]).verify(signatures[i], messages[i])
            ok += 1
        except InvalidSignature:
            pass
    return ok


PASSES: dict[str, Callable[[tuple[int, int]], int]] = {
    "signing.verify": verify_with_signing,
    "raw Ed25519PublicKey.verify (keys parsed once)": verify_raw,
    "raw from_public_bytes(...).verify": verify_raw_parse,
}


def _chunks(n: int) -> list[tuple[int, int]]:
    return [(start, min(n, start + CHUNK)) for start in range(0, n, CHUNK)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--signatures",
        type=common.positive_int,
        default=common.default_size("BENCH_SIGNATURES", 200_000, minimum=100),
        help="how many signatures (env BENCH_SIGNATURES; default 200,000, 2,000 with BENCH_QUICK=1)",
    )
    parser.add_argument("--rounds", type=common.positive_int, default=2, help="rounds per pass; the best counts")
    args = parser.parse_args(argv)
    n: int = args.signatures
    ctx = multiprocessing.get_context("fork")

    print(f"verify_signatures: {common.num(n)} Ed25519 signatures by {SIGNERS} signers (signing…)", flush=True)
    t0 = time.perf_counter()
    _build_messages(n)
    with ctx.Pool(WORKERS) as pool:
        _SIGNATURES[:] = [sig for part in pool.map(_sign_range, _chunks(n)) for sig in part]
    tampered = list(range(TAMPER_EVERY - 1, n, TAMPER_EVERY))
    for i in tampered:
        _MESSAGES[i] = _MESSAGES[i].replace(b"jishi-sign-v1\n", b"jishi-sign-v1\nX", 1)
    expected = n - len(tampered)
    print(f"  prepared in {time.perf_counter() - t0:.1f} s; {len(tampered)} messages altered after signing", flush=True)

    chunks = _chunks(n)
    timings: dict[str, list[float]] = {name: [] for name in PASSES}
    with ctx.Pool(WORKERS, initializer=_init_worker) as pool:
        pool.map(_noop, range(WORKERS * 4))  # workers up and initialised before timing
        for _ in range(args.rounds):
            for name, fn in PASSES.items():
                start = time.perf_counter()
                valid = sum(pool.imap_unordered(fn, chunks))
                timings[name].append(time.perf_counter() - start)
                if valid != expected:
                    print(f"{name}: {valid} valid signatures, expected {expected}", file=sys.stderr)
                    return 1

    single_n = max(CHUNK, n // 4) if n >= CHUNK else n
    start = time.perf_counter()
    valid_single = verify_with_signing((0, single_n))
    single_s = time.perf_counter() - start
    if valid_single != single_n - sum(1 for i in tampered if i < single_n):
        print("signing.verify in one process gave a wrong count", file=sys.stderr)
        return 1

    best = {name: min(ts) for name, ts in timings.items()}
    rates = {name: n / s for name, s in best.items()}
    single_rate = single_n / single_s
    floor = "raw Ed25519PublicKey.verify (keys parsed once)"
    rows: list[tuple[Any, ...]] = [
        (name, f"Pool({WORKERS})", f"{best[name]:.2f}", common.num(rates[name]), f"{rates[floor] / rates[name]:.2f}x")
        for name in PASSES
    ]
    rows.append(
        (
            "signing.verify",
            f"1 process, {common.num(single_n)}",
            f"{single_s:.2f}",
            common.num(single_rate),
            f"{rates[floor] / single_rate:.2f}x",
        )
    )
    print()
    print(
        common.table(
            ["pass", "processes", "best s", "signatures/s", "floor ÷ this"],
            rows,
            title=f"Ed25519 verification, {common.num(n)} signatures, best of {args.rounds}",
        )
    )
    ratio = rates[floor] / rates["signing.verify"]
    print(f"\nraw cryptography (keys parsed once) is {ratio:.2f}x the rate of signing.verify on {WORKERS} cores;")
    print(
        f"with key parsing per call the raw rate is {rates['raw from_public_bytes(...).verify']:,.0f}/s "
        f"({rates['raw from_public_bytes(...).verify'] / rates['signing.verify']:.2f}x signing.verify)"
    )
    print(f"Pool({WORKERS}) speed-up of signing.verify over one process: {rates['signing.verify'] / single_rate:.2f}x")

    path = common.write_result(
        NAME,
        {
            "signatures": n,
            "signers": SIGNERS,
            "altered_messages": len(tampered),
            "workers": WORKERS,
            "chunk": CHUNK,
            "rounds": args.rounds,
            "passes": {
                name: {
                    "best_seconds": round(best[name], 3),
                    "all_seconds": [round(t, 3) for t in timings[name]],
                    "signatures_per_s": round(rates[name]),
                }
                for name in PASSES
            },
            "single_process_signing_verify": {
                "signatures": single_n,
                "seconds": round(single_s, 3),
                "signatures_per_s": round(single_rate),
            },
            "raw_over_signing_verify_ratio": round(ratio, 3),
            "raw_parse_over_signing_verify_ratio": round(
                rates["raw from_public_bytes(...).verify"] / rates["signing.verify"], 3
            ),
            "pool_speedup_over_single_process": round(rates["signing.verify"] / single_rate, 2),
        },
    )
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
