"""Limits on public feedback, counted in the database (gunicorn runs several workers: no local memory).

What is counted is what was saved: ``PublicFeedback`` rows carry the keyed source hash and the time
received, so no extra table is needed and a refused attempt records nothing.

- at most ``SOURCE_LIMIT`` reports per source (``services.source_hash(REMOTE_ADDR)``) per hour;
- at most ``NOTICE_LIMIT`` reports per notice per hour;
- the same content from the same source within a day is a duplicate.

The check and the insert are not one transaction: ``services.feedback_submit`` notifies (and may mail)
after its own transaction, and holding a lock around a mail relay would stall every writer on SQLite.
So parallel requests from one source can pass the check together — at most one per worker beyond
the limit, once per burst. That bound is accepted; a flood is still stopped after the first burst.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from jishi.core.exceptions import ApplicationError
from jishi.selection.models import Nomination

from . import services
from .models import PublicFeedback
from .public import Notice

SOURCE_LIMIT = 5
NOTICE_LIMIT = 50
WINDOW = dt.timedelta(hours=1)
DUPLICATE_WINDOW = dt.timedelta(days=1)
TOO_FREQUENT = "提交过于频繁，请稍后再试。"
DUPLICATE = "相同内容已经提交过，我们会认真核查，请勿重复提交。"


class RateLimited(ApplicationError):
    """Too many reports in the window; the page answers HTTP 429."""

    def __init__(self, message: str = TOO_FREQUENT) -> None:
        super().__init__(message, code="rate_limited")


def feedback_check(*, notice: Notice, source: str, content: str, now: dt.datetime | None = None) -> None:
    """Raise ``RateLimited`` or ``ApplicationError(code="duplicate")`` if this report must be refused."""
    now = now or timezone.now()
    digest = services.source_hash(source)
    recent = PublicFeedback.objects.filter(received_at__gt=now - WINDOW)
    if recent.filter(source_hash=digest).count() >= SOURCE_LIMIT:
        raise RateLimited()
    if recent.filter(nomination__batch_id=notice.batch_id).count() >= NOTICE_LIMIT:
        raise RateLimited()
    if PublicFeedback.objects.filter(
        source_hash=digest, content=(content or "").strip(), received_at__gt=now - DUPLICATE_WINDOW
    ).exists():
        raise ApplicationError(DUPLICATE, code="duplicate")


def feedback_submit_limited(
    *, notice: Notice, nomination: Nomination, content: str, contact: str, source: str
) -> PublicFeedback:
    """Check the limits, then file the report through ``services.feedback_submit`` (its ledger event)."""
    if nomination.batch_id != notice.batch_id:
        raise ApplicationError("请从公示名单中选择反映对象。", code="invalid_person")
    feedback_check(notice=notice, source=source, content=content)
    return services.feedback_submit(nomination=nomination, content=content, contact=contact, source=source)
