from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from jishi.core.roles import ROLE_LABELS, Role
from jishi.core.types import AuthedHttpRequest

from .models import ProcedureVersion


@login_required
def procedure_list(request: AuthedHttpRequest) -> HttpResponse:
    versions = ProcedureVersion.objects.all()
    return render(request, "procedures/procedure_list.html", {"versions": versions})


@login_required
def procedure_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    try:
        version = ProcedureVersion.objects.get(pk=pk)
    except ProcedureVersion.DoesNotExist:
        raise Http404 from None
    definition = version.definition
    labels = {r.value: ROLE_LABELS[r] for r in Role}
    return render(
        request,
        "procedures/procedure_detail.html",
        {
            "version": version,
            "definition": definition,
            "counts": definition.counts(),
            "role_labels": labels,
            "sources": {s.id: s.title for s in definition.sources},
        },
    )
