"""What the province dataset holds, decided before any row is written — pure, no Django.

The plan fixes per fonds (全宗) how many cadres, positions, batches and nominations it gets, so the worker
processes can build their fonds independently and still give the same rows (and hashes) on every run.
Primary keys are ``(fonds index + 1) * STRIDE + n``: each worker numbers its own fonds without asking the
database, and every id that ends up inside an event payload is fixed by the seed alone.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

FULL = {
    "fonds": 150,
    "cities": 20,
    "cadres": 200_000,
    "batches": 30_000,
    "nominations": 120_000,
    "material_files": 500_000,
}
STRIDE = 10_000_000  # ids per fonds and table; a province fonds at full size uses well under 1 million
MAX_NOMINATIONS_PER_BATCH = 8
# Batches and cadres are shared out by weight: a province department handles more than a city, a city more
# than a county.
WEIGHTS = {"province": 4, "city": 2, "county": 1}
YEARS = 10
START_YEAR = 2016  # the ten years 2016–2025; fixed (not "now") so two runs give the same timestamps


@dataclass
class Context:
    database_url: str
    materials_dir: str
    seed: int
    procedure_id: int
    procedure: dict[str, str]  # code, version, sha256 as batch.create records them
    password_hash: str
    pin: str
    scrypt_n_log2: int
    checkpoint_every: int
    material_file_share: float
    complete_share: float


def parse_scale(text: str) -> float:
    """``quick`` = 1/100, ``full`` = 1, an integer N = N/1000 of the full province."""
    if text == "quick":
        return 0.01
    if text == "full":
        return 1.0
    value = int(text)
    if value <= 0:
        raise ValueError("scale must be quick, full or a positive integer (thousandths of full)")
    return value / 1000


def scale_label(scale: float) -> str:
    return {0.01: "quick", 1.0: "full"}.get(scale, str(round(scale * 1000)))


@dataclass
class FondsPlan:
    index: int
    code: str
    name: str
    level: str
    parent_index: int | None
    cadres: int
    positions: int
    nominations_per_batch: list[int] = field(default_factory=list)

    @property
    def base(self) -> int:
        return (self.index + 1) * STRIDE


@dataclass
class Plan:
    scale: float
    seed: int
    fonds: list[FondsPlan]
    material_file_share: float  # chance that a registered material carries an electronic file
    complete_share: float

    def totals(self) -> dict[str, int]:
        return {
            "fonds": len(self.fonds),
            "cadres": sum(f.cadres for f in self.fonds),
            "positions": sum(f.positions for f in self.fonds),
            "batches": sum(len(f.nominations_per_batch) for f in self.fonds),
            "nominations": sum(sum(f.nominations_per_batch) for f in self.fonds),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "material_file_share": self.material_file_share,
            "complete_share": self.complete_share,
            "fonds": [asdict(f) for f in self.fonds],
        }


def _share(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` by weight, largest remainders first (deterministic)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def make_plan(
    scale: float, seed: int, *, materials_per_batch: int, materials_per_nomination: int, complete_share: float = 1.0
) -> Plan:
    rng = random.Random(f"{seed}:plan")
    n_fonds = max(3, round(FULL["fonds"] * scale))
    cities = max(1, round(FULL["cities"] * scale))
    counties = n_fonds - 1 - cities
    levels = ["province"] + ["city"] * cities + ["county"] * counties
    fonds: list[FondsPlan] = []
    for i, level in enumerate(levels):
        if level == "province":
            code, name, parent = "P000", "省委组织部", None
        elif level == "city":
            code, name, parent = f"C{i:03d}", f"第{i}市委组织部", 0
        else:
            n = i - cities
            code, name, parent = f"X{i:03d}", f"第{n}县委组织部", 1 + (n - 1) % cities
        fonds.append(FondsPlan(i, code, name, level, parent, 0, 0))
    weights = [WEIGHTS[f.level] for f in fonds]
    batches = max(n_fonds, round(FULL["batches"] * scale))
    nominations = max(batches, round(FULL["nominations"] * scale))
    for f, cadres in zip(fonds, _share(max(10 * n_fonds, round(FULL["cadres"] * scale)), weights), strict=True):
        f.cadres = cadres
        f.positions = max(5, cadres // 8)
    per_fonds_batches = _share(batches, weights)
    # One nomination per batch, then the rest dealt out at random (a batch holds at most 8 people).
    sizes = [1] * batches
    extra = nominations - batches
    while extra:
        i = rng.randrange(batches)
        if sizes[i] < MAX_NOMINATIONS_PER_BATCH:
            sizes[i] += 1
            extra -= 1
    start = 0
    for f, count in zip(fonds, per_fonds_batches, strict=True):
        f.nominations_per_batch = sizes[start : start + count]
        start += count
    registrations = batches * materials_per_batch + nominations * materials_per_nomination
    files = round(FULL["material_files"] * scale)
    share = min(1.0, files / registrations) if registrations else 0.0
    return Plan(scale=scale, seed=seed, fonds=fonds, material_file_share=share, complete_share=complete_share)
