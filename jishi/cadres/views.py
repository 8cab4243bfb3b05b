from __future__ import annotations

import base64
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.types import AuthedHttpRequest

from . import services
from .forms import LrmxConfirmForm, LrmxUploadForm
from .models import Cadre, Position

POSITIONS_PER_PAGE = 30


@login_required
def cadre_list(request: AuthedHttpRequest) -> HttpResponse:
    units = perms.visible_unit_ids(request.user)
    query = request.GET.get("q", "").strip()[:50]
    cadres = Cadre.objects.filter(org_unit_id__in=units).select_related("org_unit")
    if query:
        cadres = cadres.filter(Q(name__contains=query) | Q(current_post__contains=query))
    page = Paginator(cadres, 30).get_page(request.GET.get("page"))
    # A province sees tens of thousands of positions: paged like the cadres, not one table.
    positions = Paginator(
        Position.objects.filter(org_unit_id__in=units).select_related("org_unit").order_by("org_unit__code", "id"),
        POSITIONS_PER_PAGE,
    ).get_page(request.GET.get("ppage"))
    context = {
        "page": page,
        "q": query,
        "positions": positions,
        "lrmx_units": perms.acting_units(request.user, services.LRMX_IMPORT_ROLES),
    }
    return render(request, "cadres/cadre_list.html", context)


@login_required
def cadre_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cadre = perms.get_cadre_for_user(request.user, pk)
    context = {
        "cadre": cadre,
        "family": cadre.family.all(),
        "show_id": perms.can_view_identity_number(request.user, cadre),
        "nominations": cadre.nominations.select_related("batch", "position"),
        "can_export_lrmx": perms.can_view_identity_number(request.user, cadre),
    }
    return render(request, "cadres/cadre_detail.html", context)


# 任免审批表 (LRMX) import and export ----------------------------------------------------------------------

LRMX_SESSION_KEY = "cadre_lrmx_upload"


def _lrmx_preview_page(
    request: AuthedHttpRequest, unit: OrgUnit, preview: services.LrmxPreview, form: LrmxConfirmForm, status: int = 200
) -> HttpResponse:
    context = {"unit": unit, "preview": preview, "form": form}
    return render(request, "cadres/lrmx_preview.html", context, status=status)


@login_required
def cadre_lrmx_import(request: AuthedHttpRequest) -> HttpResponse:
    """Upload → preview (nothing is saved; the bytes wait in the session until the user confirms)."""
    units = perms.acting_units(request.user, services.LRMX_IMPORT_ROLES)
    perms.require(bool(units), gettext("只有经办人或干部科长可以导入任免审批表。"))
    form = LrmxUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        unit = form.cleaned_data["org_unit"]
        data = form.cleaned_data["file"].read(settings.LRMX_MAX_BYTES + 1)  # one byte more: "too large"
        try:
            preview = services.cadre_lrmx_preview(actor=request.user, org_unit=unit, data=data)
        except PermissionDenied:
            raise
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            stored = {"sha256": preview.sha256, "org_unit": unit.pk, "data": base64.b64encode(data).decode("ascii")}
            request.session[LRMX_SESSION_KEY] = stored
            confirm = LrmxConfirmForm(
                initial={"sha256": preview.sha256, "current_post_since": preview.suggested_post_since}
            )
            return _lrmx_preview_page(request, unit, preview, confirm)
    context = {"form": form, "units": units}
    return render(request, "cadres/lrmx_import.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def cadre_lrmx_confirm(request: AuthedHttpRequest) -> HttpResponse:
    stored = request.session.get(LRMX_SESSION_KEY)
    form = LrmxConfirmForm(request.POST)
    if not stored or not form.is_valid():
        messages.error(request, gettext("上传的文件已失效，请重新上传任免审批表。"))
        return redirect("cadre_lrmx_import")
    unit = get_object_or_404(OrgUnit, pk=stored["org_unit"])
    data = base64.b64decode(stored["data"])
    try:
        cadre = services.cadre_lrmx_import(
            actor=request.user,
            org_unit=unit,
            data=data,
            confirm_sha256=form.cleaned_data["sha256"],
            current_rank=form.cleaned_data["current_rank"],
            current_post_since=form.cleaned_data["current_post_since"],
            current_rank_since=form.cleaned_data["current_rank_since"],
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        if exc.code == "lrmx_stale":
            del request.session[LRMX_SESSION_KEY]
            messages.error(request, exc.message)
            return redirect("cadre_lrmx_import")
        form.add_error(None, exc.message)
        return _lrmx_preview_page(
            request, unit, services.cadre_lrmx_preview(actor=request.user, org_unit=unit, data=data), form, 400
        )
    del request.session[LRMX_SESSION_KEY]
    messages.success(request, gettext("已导入 %(name)s 的任免审批表。") % {"name": cadre.name})
    return redirect("cadre_detail", pk=cadre.pk)


@login_required
def cadre_lrmx_export(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cadre = perms.get_cadre_for_user(request.user, pk)
    nomination = None
    if request.GET.get("nomination"):
        nomination = perms.get_nomination_for_user(request.user, request.GET["nomination"])
    data = services.cadre_lrmx_export(actor=request.user, cadre=cadre, nomination=nomination)
    response = HttpResponse(data, content_type="application/xml")
    # ASCII fallback first, then the name (RFC 6266 / RFC 5987) for browsers that read filename*.
    response["Content-Disposition"] = (
        f"attachment; filename=\"cadre-{cadre.pk}.lrmx\"; filename*=UTF-8''{quote(cadre.name + '.lrmx')}"
    )
    response["Cache-Control"] = "no-store"  # the file carries the ID number
    return response
