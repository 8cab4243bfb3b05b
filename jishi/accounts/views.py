"""我的签名 (a user's own signing key) and 签名管理 (administrators: lockouts and revocation)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jishi.core.exceptions import ApplicationError
from jishi.core.roles import Role
from jishi.core.types import AuthedHttpRequest
from jishi.ledger.models import Event

from . import keys
from .models import OrgUnit, RoleAssignment, SigningKey, User


def _key_events(user: User) -> list[Event]:
    return list(
        Event.objects.filter(subject_type="user", subject_id=str(user.pk), action__startswith="sign")
        .select_related("chain")
        .order_by("-recorded_at")[:50]
    )


@login_required
def signing_page(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "active": keys.active_key(user),
        "history": SigningKey.objects.filter(user=user),
        "events": _key_events(user),
        "error": None,
    }
    return render(request, "accounts/signing.html", context)


@login_required
@require_POST
def signing_action(request: AuthedHttpRequest, action: str) -> HttpResponse:
    user, post = request.user, request.POST
    try:
        if post.get("new_pin", "") != post.get("new_pin2", post.get("new_pin", "")):
            raise ApplicationError("两次输入的新签名口令不一致。", code="pin_mismatch")
        if action == "enrol":
            keys.signing_key_enrol(user=user, pin=post.get("new_pin", ""))
            messages.success(request, "签名密钥已启用。请牢记签名口令：系统不保存口令，遗忘后只能吊销并重新启用。")
        elif action == "pin":
            keys.signing_pin_change(user=user, old_pin=post.get("pin", ""), new_pin=post.get("new_pin", ""))
            messages.success(request, "签名口令已更改。")
        elif action == "rotate":
            keys.signing_key_rotate(user=user, pin=post.get("pin", ""))
            messages.success(request, "已更换签名密钥；此前的签名仍可用原密钥验证。")
        else:
            raise Http404
    except ApplicationError as exc:
        context = {
            "active": keys.active_key(user),
            "history": SigningKey.objects.filter(user=user),
            "events": _key_events(user),
            "error": exc,
        }
        return render(request, "accounts/signing.html", context, status=400)
    return redirect("signing")


def _managed_users(admin: User) -> list[User]:
    unit_ids: set[int] = set()
    for unit in OrgUnit.objects.filter(
        pk__in=RoleAssignment.objects.filter(user=admin, role=Role.SECADMIN.value).values("org_unit")
    ):
        unit_ids.update(u.pk for u in unit.descendants_and_self())
    return list(User.objects.filter(roles__org_unit__in=unit_ids).distinct().order_by("username"))


@login_required
def signing_admin(request: AuthedHttpRequest) -> HttpResponse:
    users = _managed_users(request.user)
    if not users:
        return render(
            request, "error.html", {"title": "无权访问", "message": "只有安全管理员可以管理签名密钥。"}, status=403
        )
    rows = [(u, keys.active_key(u)) for u in users]
    return render(request, "accounts/signing_admin.html", {"rows": rows})


@login_required
@require_POST
def signing_admin_action(request: AuthedHttpRequest, pk: int, action: str) -> HttpResponse:
    target = next((u for u in _managed_users(request.user) if u.pk == pk), None)
    if target is None:
        raise Http404
    try:
        if action == "unlock":
            keys.signing_unlock(actor=request.user, user=target)
            messages.success(request, f"已为 {target} 解除签名锁定。")
        elif action == "revoke":
            keys.signing_key_revoke(actor=request.user, user=target, reason=request.POST.get("reason", ""))
            messages.success(request, f"已吊销 {target} 的签名密钥。")
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("signing_admin")
