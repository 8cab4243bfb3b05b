"""What arrives for a user: inbox notifications, and for supervisors the public feedback queue.

Selectors (reads) and one small service, ``notification_read_all``. The feedback queue is visible to
干部监督、纪检监察 and 部领导 of the unit and of the units below it (a higher department supervises the
lower); recording a verification stays with ``services.feedback_verify``, which allows only the unit's own
干部监督 or 纪检监察.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from jishi.accounts import permissions as perms
from jishi.accounts.models import RoleAssignment, User
from jishi.core.roles import Role

from .models import FeedbackStatus, Notification, PublicFeedback

QUEUE_ROLES = frozenset({Role.SUPERVISION, Role.DISCIPLINE, Role.DEPT_LEADER})
VERIFY_ROLES = frozenset({Role.SUPERVISION, Role.DISCIPLINE})
QUEUE_REFUSED = "只有干部监督、纪检监察人员和部领导可以查看公示期间反映。"


# Notifications -----------------------------------------------------------------------------------------


def notifications_for(user: User) -> QuerySet[Notification]:
    """The user's inbox, unread first, newest first within each group."""
    unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
    return Notification.objects.filter(user=user).order_by(unread_first, "-created_at", "-id")


def notification_read_all(*, user: User) -> int:
    """Mark every unread notification of the user as read; returns how many.

    Only the user's own delivery state changes (like ``services.notification_read``): a notification is
    delivery, not record — the warning or step it points to has its ledger event — so no event is appended.
    """
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def safe_link(url: str) -> str:
    """The notification's link if it stays on this site (a relative path), else empty."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return ""


# Public feedback queue ---------------------------------------------------------------------------------


def queue_unit_ids(user: User) -> set[int]:
    """Units whose public feedback the user sees: where they hold a queue role, and the units below."""
    if not user.is_authenticated or not user.is_active:
        return set()
    ids: set[int] = set()
    assignments = RoleAssignment.objects.filter(user=user, role__in=[r.value for r in QUEUE_ROLES])
    for ra in assignments.select_related("org_unit"):
        ids.update(u.pk for u in ra.org_unit.descendants_and_self())
    return ids


def feedback_queue_for(user: User) -> QuerySet[PublicFeedback]:
    """Open reports first (oldest first: they have waited longest), then the verified ones, newest first."""
    open_first = Case(When(status=FeedbackStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        PublicFeedback.objects.filter(nomination__batch__org_unit__in=queue_unit_ids(user))
        .select_related("nomination__batch__org_unit", "nomination__cadre", "nomination__position", "verified_by")
        .annotate(open_first=open_first)
        .order_by("open_first", Case(When(status=FeedbackStatus.OPEN, then=F("received_at"))), "-received_at", "-id")
    )


def get_feedback_for_user(user: User, pk: Any) -> PublicFeedback:
    """Fetch-or-404, then 403 outside the user's queue (the project-wide ``get_*_for_user`` convention)."""
    try:
        feedback = PublicFeedback.objects.select_related(
            "nomination__batch__org_unit", "nomination__cadre", "nomination__position", "verified_by"
        ).get(pk=pk)
    except (PublicFeedback.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    perms.require(feedback.nomination.batch.org_unit_id in queue_unit_ids(user), "您无权查看该反映。")
    return feedback


def can_verify(user: User, feedback: PublicFeedback) -> bool:
    return feedback.status == FeedbackStatus.OPEN and perms.has_role(
        user, feedback.nomination.batch.org_unit, VERIFY_ROLES
    )
