"""Standalone 四性检测 (DA/T 70-2018) of ``jishi-archive-package-v1`` archive packages.

Runs without Django or a database: only the standard library, defusedxml, cryptography (through the pure ledger
modules) and, when installed, pypdf. Django code calls ``verify_package`` directly; the command line is
``python -m jishi.verify PACKAGE [--json]``.
"""

from __future__ import annotations

from .core import verify_package
from .files import Limits
from .report import CATEGORIES, CHECKS, Check, Problem, Report

__all__ = ["CATEGORIES", "CHECKS", "Check", "Limits", "Problem", "Report", "verify_package"]
