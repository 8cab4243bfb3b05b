"""Navigation flags for every page: whether the user sees the supervision dashboard."""

from __future__ import annotations

from django.http import HttpRequest

from jishi.accounts.models import RoleAssignment
from jishi.core.roles import Role

SUPERVISING = (Role.SUPERVISION, Role.DISCIPLINE, Role.DEPT_LEADER, Role.SECTION_HEAD)


def supervision_nav(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_supervise": False}
    return {"nav_supervise": RoleAssignment.objects.filter(user=user, role__in=SUPERVISING).exists()}
