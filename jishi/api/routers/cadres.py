"""API: cadres."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["cadres"])
