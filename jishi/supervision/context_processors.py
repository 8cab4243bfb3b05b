"""Template context for every page: the number of unread inbox notifications (one query)."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Notification


def unread_count(request: HttpRequest) -> dict[str, int]:
    """``unread_count`` for the nav badge: 0 for anonymous visitors (no query), else one COUNT query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0}
    return {"unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count()}
