"""台账核验 — supervisors check a fonds' ledger from the browser and take its witness checkpoint."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.core.types import AuthedHttpRequest
from jishi.ledger import selectors, services
from jishi.ledger.models import Chain, Checkpoint


def _chains(request: AuthedHttpRequest) -> list[Chain]:
    codes = [u.code for u in perms.verifiable_units(request.user)]
    perms.require(bool(codes), "只有干部监督、纪检监察、部领导和档案管理员可以核验台账。")
    return list(Chain.objects.filter(fonds__in=codes).order_by("fonds"))


def _rows(chains: list[Chain]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for chain in chains:
        latest = list(Checkpoint.objects.filter(chain=chain).order_by("-tree_size")[:2])
        rows.append(
            {
                "chain": chain,
                "checkpoint": latest[0] if latest else None,
                # The newest checkpoint must extend the one before it (RFC 9162 consistency proof).
                "consistency": selectors.consistency_evidence(chain, latest[1], latest[0])
                if len(latest) == 2
                else None,
            }
        )
    return rows


@login_required
def ledger_page(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "supervision/ledger.html", {"rows": _rows(_chains(request)), "result": None})


@login_required
@require_POST
def ledger_verify(request: AuthedHttpRequest, fonds: str) -> HttpResponse:
    chains = _chains(request)
    chain = next((c for c in chains if c.fonds == fonds), None)
    if chain is None:
        raise Http404
    problem = selectors.chain_verify(chain)
    result = {"fonds": fonds, "ok": problem is None, "problem": problem, "events": chain.seq}
    return render(
        request,
        "supervision/ledger.html",
        {"rows": _rows(chains), "result": result},
        status=200 if problem is None else 409,
    )


@login_required
@require_POST
def ledger_witness(request: AuthedHttpRequest, fonds: str) -> HttpResponse:
    """Make a checkpoint now and hand it out as a text file for an outside party to keep."""
    chain = next((c for c in _chains(request) if c.fonds == fonds), None)
    if chain is None:
        raise Http404
    with transaction.atomic():
        checkpoint = services.checkpoint_create(chain=Chain.objects.select_for_update().get(pk=chain.pk))
    response = HttpResponse(selectors.witness_for(checkpoint).to_text(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="checkpoint-{fonds}-{checkpoint.tree_size}.txt"'
    return response
