"""Health checks behind ``/healthz``: is the database answering, is every ledger chain's head consistent
with its last event, and is there disk space left for materials and the database.

The answer goes to unauthenticated monitoring, so it carries only yes/no, counts and free megabytes —
never paths, fonds codes, hashes or error messages (a driver's message can name the database user);
the details go to the server log, where the operator looks next.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Subquery

from jishi.ledger.hashing import GENESIS_PREV
from jishi.ledger.models import Chain, Event

logger = logging.getLogger("jishi.ops.health")

DEFAULT_MIN_FREE_MB = 1024


@dataclass(frozen=True)
class Result:
    ok: bool
    info: dict[str, Any] = field(default_factory=dict)


def database() -> Result:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return Result(one == 1)


def ledger() -> Result:
    """Every chain's seq/head against its last event — one query, whatever the number of chains.

    A chain whose head does not match its last event means a crashed or tampered append; the full
    verification (``manage.py ledger verify``) says where.
    """
    last = Event.objects.filter(chain=OuterRef("pk")).order_by("-seq")
    rows = Chain.objects.annotate(
        last_seq=Subquery(last.values("seq")[:1]), last_hash=Subquery(last.values("hash")[:1])
    ).values_list("fonds", "seq", "head_hash", "last_seq", "last_hash")
    broken = []
    count = 0
    for fonds, seq, head, last_seq, last_hash in rows:
        count += 1
        empty = seq == 0 and head == GENESIS_PREV and last_seq is None
        if not empty and (seq, head) != (last_seq, last_hash):
            broken.append(fonds)
    if broken:
        logger.error("台账链头与最后一个事件不一致：%s；请运行 python manage.py ledger verify", ", ".join(broken))
    return Result(not broken, {"chains": count, "inconsistent": len(broken)})


def min_free_mb() -> int:
    """``JISHI_HEALTH_MIN_FREE_MB`` (default 1024); a malformed value falls back to the default, loudly."""
    raw = os.environ.get("JISHI_HEALTH_MIN_FREE_MB", "")
    try:
        return int(raw) if raw else DEFAULT_MIN_FREE_MB
    except ValueError:
        logger.error("JISHI_HEALTH_MIN_FREE_MB 应为整数（兆字节），实际为 %r；按 %s 检查", raw, DEFAULT_MIN_FREE_MB)
        return DEFAULT_MIN_FREE_MB


def _existing(path: Path) -> Path:
    """The path, or its nearest existing parent (materials/ appears with the first upload)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def watched_paths() -> dict[str, Path]:
    """The data directories whose filesystem must not fill up: var/ (SQLite, certificates) and materials."""
    paths = {"var": Path(settings.VAR_DIR)}
    if settings.MATERIAL_STORAGE == "filesystem":
        paths["materials"] = Path(settings.MEDIA_ROOT)
    return paths


def disk(threshold_mb: int | None = None) -> Result:
    threshold = min_free_mb() if threshold_mb is None else threshold_mb
    free: dict[str, int] = {}
    low = []
    for label, path in watched_paths().items():
        mb = shutil.disk_usage(_existing(path)).free // (1024 * 1024)
        free[label] = mb
        if mb < threshold:
            low.append(label)
            logger.error("磁盘空间不足：%s（%s）剩余 %s MB，低于 %s MB", label, path, mb, threshold)
    return Result(not low, {"free_mb": free, "min_free_mb": threshold})


CHECKS = {"database": database, "ledger": ledger, "disk": disk}


def run() -> tuple[bool, dict[str, Any]]:
    """Run every check; one that raises counts as failed (with the exception's type only) and the rest
    still run, so the answer is always a 200 or a 503, never a 500."""
    checks: dict[str, Any] = {}
    for name, check in CHECKS.items():
        try:
            result = check()
            checks[name] = {"ok": result.ok, **result.info}
        except Exception as exc:
            logger.exception("健康检查 %s 出错", name)
            checks[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(c["ok"] for c in checks.values())
    return healthy, {"status": "ok" if healthy else "fail", "checks": checks}
