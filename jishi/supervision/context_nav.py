"""Navigation flags for every page (one query): selection work, supervision, archives and the three
administrator roles' pages (三权分立: each administrator sees only his own pages)."""

from __future__ import annotations

from django.http import HttpRequest

from jishi.accounts.models import RoleAssignment
from jishi.core.roles import ADMIN_ROLES, Role

SUPERVISING = (Role.SUPERVISION, Role.DISCIPLINE, Role.DEPT_LEADER, Role.SECTION_HEAD)
ARCHIVE_NAV = (Role.ARCHIVIST, Role.CLERK, Role.SECTION_HEAD, Role.DEPT_LEADER, Role.SUPERVISION, Role.DISCIPLINE)


def supervision_nav(request: HttpRequest) -> dict[str, bool]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_supervise": False, "nav_archive": False}
    roles = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    return {
        "nav_work": bool(roles - set(ADMIN_ROLES)),
        "nav_supervise": bool(roles & set(SUPERVISING)),
        "nav_archive": bool(roles & set(ARCHIVE_NAV)),
        "nav_sysadmin": Role.SYSADMIN in roles,
        "nav_secadmin": Role.SECADMIN in roles,
        "nav_auditor": Role.AUDITOR in roles,
    }
