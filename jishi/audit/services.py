"""Writing security audit records — the one way in (`audit_record`)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest

from .models import AuditRecord, Outcome

# The request being served (set by jishi.audit.middleware.AuditMiddleware), so a service that records
# an audit event without being handed the request still records its address and request id.
current_request: ContextVar[HttpRequest | None] = ContextVar("jishi_audit_request", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The peer address; behind nginx, the address nginx saw (X-Real-IP, set by our nginx config only)."""
    ip = request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or ""
    return ip.strip() or None


def _roles_of(user: Any) -> tuple[str, str]:
    from jishi.accounts.models import RoleAssignment

    rows = list(RoleAssignment.objects.filter(user=user).select_related("org_unit").order_by("org_unit__code", "role"))
    roles = ",".join(f"{ra.org_unit.code}:{ra.role}" for ra in rows)
    return roles[:300], (rows[0].org_unit.code if rows else "")


def audit_record(
    *,
    event: str,
    outcome: str = Outcome.SUCCESS,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    object_type: str = "",
    object_id: Any = "",
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one audit record.

    Called inside the caller's transaction, so a business change and its audit record commit or
    roll back together (等保 安全审计 d: the audit cannot be bypassed by a failed write). `user`
    defaults to the request's authenticated user; `username` names a user who is not (yet)
    authenticated, e.g. a failed login. Never pass secrets or ID numbers in `detail`.
    """
    if request is None:
        request = current_request.get()
    if request is not None:
        # The middleware writes its own record only for requests nothing else recorded (one per request).
        request.audit_recorded = True  # type: ignore[attr-defined]
    request_user = getattr(request, "user", None)
    if user is None and request_user is not None and request_user.is_authenticated:
        user = request_user
    roles, unit = _roles_of(user) if user is not None else ("", "")
    return AuditRecord.objects.create(
        event=event,
        outcome=outcome,
        user_id=user.pk if user is not None else None,
        username=(user.get_username() if user is not None else username)[:150],
        roles=roles,
        org_unit=unit,
        object_type=object_type,
        object_id=str(object_id)[:64],
        method=request.method[:10] if request is not None and request.method else "",
        path=request.path[:300] if request is not None else "",
        ip=client_ip(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200] if request is not None else "",
        request_id=str(getattr(request, "request_id", ""))[:36] if request is not None else "",
        detail=detail or {},
    )
