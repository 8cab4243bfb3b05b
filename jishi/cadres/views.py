from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render

from jishi.accounts import permissions as perms
from jishi.core.types import AuthedHttpRequest

from .models import Cadre, Position


@login_required
def cadre_list(request: AuthedHttpRequest) -> HttpResponse:
    units = perms.visible_unit_ids(request.user)
    query = request.GET.get("q", "").strip()[:50]
    cadres = Cadre.objects.filter(org_unit_id__in=units).select_related("org_unit")
    if query:
        cadres = cadres.filter(Q(name__contains=query) | Q(current_post__contains=query))
    page = Paginator(cadres, 30).get_page(request.GET.get("page"))
    positions = Position.objects.filter(org_unit_id__in=units).select_related("org_unit")
    return render(request, "cadres/cadre_list.html", {"page": page, "q": query, "positions": positions})


@login_required
def cadre_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    cadre = perms.get_cadre_for_user(request.user, pk)
    context = {
        "cadre": cadre,
        "family": cadre.family.all(),
        "show_id": perms.can_view_identity_number(request.user, cadre),
        "nominations": cadre.nominations.select_related("batch", "position"),
    }
    return render(request, "cadres/cadre_detail.html", context)
