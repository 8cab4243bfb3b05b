"""重要岗位: flag a post as key (干部科长、部领导、干部监督) and sign the review of its nominations (干部监督)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.cadres.models import Position
from jishi.cadres.services import position_set_key_post
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import Role
from jishi.core.types import AuthedHttpRequest
from jishi.selection.models import Nomination, NominationStatus

from . import services

FLAG_ROLES = {Role.SECTION_HEAD, Role.DEPT_LEADER, Role.SUPERVISION}


def _page(request: AuthedHttpRequest, *, status: int = 200, errors: dict[str, str] | None = None) -> HttpResponse:
    units = perms.visible_unit_ids(request.user)
    positions = (
        Position.objects.filter(org_unit__in=units)
        .select_related("org_unit")
        .order_by("-is_key_post", "org_unit__code", "unit_name", "title")
    )
    pending = (
        Nomination.objects.filter(
            batch__org_unit__in=units,
            status=NominationStatus.ACTIVE,
            position__is_key_post=True,
            key_post_review__isnull=True,
        )
        .select_related("batch__org_unit", "cadre", "position")
        .order_by("batch__created_at", "id")
    )
    errors = errors or {}
    context = {
        "positions": [
            (p, perms.has_role(request.user, p.org_unit, FLAG_ROLES), errors.get(f"position-{p.pk}", ""))
            for p in positions
        ],
        "pending": [
            (
                n,
                perms.has_role(request.user, n.batch.org_unit, {Role.SUPERVISION}),
                errors.get(f"nomination-{n.pk}", ""),
            )
            for n in pending
        ],
        "posted": request.POST if request.method == "POST" else {},
    }
    return render(request, "supervision/key_posts.html", context, status=status)


@login_required
def key_posts(request: AuthedHttpRequest) -> HttpResponse:
    perms.require(bool(perms.visible_unit_ids(request.user)), _("您没有查看重要岗位的权限。"))
    return _page(request)


@login_required
@require_POST
def key_post_flag(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    position = Position.objects.select_related("org_unit").filter(pk=pk).first()
    if position is None or position.org_unit_id not in perms.visible_unit_ids(request.user):
        perms.require(False, _("您无权设定该职位。"))
    assert position is not None
    try:
        position_set_key_post(
            actor=request.user,
            position=position,
            is_key_post=request.POST.get("is_key_post") == "1",
            reason=request.POST.get("reason", ""),
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _page(request, status=400, errors={f"position-{pk}": exc.message})
    messages.success(request, _("已更新重要岗位设定。"))
    return redirect("key_posts")


@login_required
@require_POST
def key_post_review(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = perms.get_nomination_for_user(request.user, pk)
    try:
        services.key_post_review(
            actor=request.user,
            nomination=nomination,
            approved=request.POST.get("approved") == "1",
            opinion=request.POST.get("opinion", ""),
            pin=request.POST.get("pin", ""),
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        return _page(request, status=400, errors={f"nomination-{pk}": exc.message})
    messages.success(request, _("审核意见已签字记录。"))
    return redirect("key_posts")
