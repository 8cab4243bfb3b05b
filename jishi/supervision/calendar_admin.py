"""Calendar maintenance beside ``services.workday_override_set``: removing an override (with its ledger event)
and reminding system administrators when the holiday data for a year in use is missing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from jishi.accounts import permissions as perms
from jishi.accounts.models import RoleAssignment, User
from jishi.core.exceptions import ApplicationError
from jishi.core.roles import Role
from jishi.ledger.services import event_append

from .calendar import library_covers
from .models import Notification, WorkdayOverride
from .selectors_calendar import uncovered_warning
from .services import notification_send

MAINTAIN_REFUSED = "只有系统管理员可以维护工作日调整。"


def can_maintain_calendar(user: User) -> bool:
    """系统管理员 (in any unit) maintains the one calendar all units share."""
    if not user.is_authenticated or not user.is_active:
        return False
    return RoleAssignment.objects.filter(user=user, role=Role.SYSADMIN).exists()


def workday_override_remove(*, actor: User, day: dt.date, note: str) -> None:
    """Withdraw an override: the date goes back to the official schedule (or Monday–Friday)."""
    # Same fonds choice as ``workday_override_set``, so an override and its removal sit in one chain.
    units = [ra.org_unit for ra in RoleAssignment.objects.filter(user=actor, role=Role.SYSADMIN)]
    perms.require(bool(units) and actor.is_active, MAINTAIN_REFUSED)
    note = (note or "").strip()
    if not note or len(note) > 200 or "\x00" in note:
        raise ApplicationError("请填写撤销原因，200 字以内。", code="required")
    with transaction.atomic():
        override = WorkdayOverride.objects.select_for_update().filter(day=day).first()
        if override is None:
            raise ApplicationError(f"{day:%Y-%m-%d} 没有工作日调整，无需撤销。", code="not_found")
        event_append(
            fonds=units[0].code,
            actor=actor,
            action="calendar.override_remove",
            subject_type="workdayoverride",
            subject_id=override.pk,
            payload={
                "day": day.isoformat(),
                "note": note,
                "was_working": override.is_working_day,
                "was_note": override.note,
            },
        )
        override.delete()


def warning_title(year: int) -> str:
    return f"{year} 年法定节假日安排尚未收录"


def calendar_warn_admins(*, today: dt.date | None = None) -> list[Notification]:
    """Tell every active 系统管理员 that this or next year has no holiday data and no override yet.

    Idempotent, for the periodic ``supervise`` scan: nobody gets a second notice with the same title while an
    unread one is waiting. Two scans running at once could both send; a duplicate notice is harmless.
    """
    today = today or timezone.localdate()
    sent: list[Notification] = []
    for year in (today.year, today.year + 1):
        if library_covers(year) or WorkdayOverride.objects.filter(day__year=year).exists():
            continue
        title = warning_title(year)
        with translation.override(settings.LANGUAGE_CODE):  # a stored notice: the office language, not the caller's
            body = uncovered_warning(year)
        waiting = set(Notification.objects.filter(title=title, read_at__isnull=True).values_list("user_id", flat=True))
        admins = User.objects.filter(is_active=True, roles__role=Role.SYSADMIN).distinct().order_by("pk")
        for admin in admins:
            if admin.pk in waiting:
                continue
            sent.append(
                notification_send(
                    user=admin,
                    title=title,
                    body=body,
                    url=f"/supervision/calendar/?year={year}&month=1",
                )
            )
    return sent
