"""Supervision rules (预警规则) — pure functions over plain facts, registered by id (W01…W46 and a few
generic checks), referenced from the procedure definition with their parameters.

``engine`` holds the facts, the finding and the registry; the catalogue modules register the rules.
"""

from . import avoidance, generic, process, qualifications  # noqa: F401 — register the catalogue
from .engine import (
    REGISTRY,
    CadreFacts,
    FamilyFacts,
    Finding,
    NomineeFacts,
    PositionFacts,
    RuleContext,
    RuleSpec,
    StepFacts,
    TallyData,
    TallyLine,
    evaluate,
    rule,
)

__all__ = [
    "REGISTRY",
    "CadreFacts",
    "FamilyFacts",
    "Finding",
    "NomineeFacts",
    "PositionFacts",
    "RuleContext",
    "RuleSpec",
    "StepFacts",
    "TallyData",
    "TallyLine",
    "evaluate",
    "rule",
]
