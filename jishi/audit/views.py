"""安全审计查询 (安全审计员 only): search and CSV export, both themselves audited."""

from __future__ import annotations

import csv
import io

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from jishi.accounts import admin_permissions as ap
from jishi.core.exceptions import PermissionDenied
from jishi.core.types import AuthedHttpRequest

from . import selectors
from .catalogue import EVENTS
from .models import Outcome
from .services import audit_record


def _require_auditor(request: AuthedHttpRequest) -> None:
    if not ap.can_read_audit(request.user):
        raise PermissionDenied("只有安全审计员可以查询安全审计记录。")


@login_required
def audit_search(request: AuthedHttpRequest) -> HttpResponse:
    _require_auditor(request)
    filters, errors = selectors.filters_parse(request.GET)
    page_number = request.GET.get("page") or "1"
    detail = {**filters.as_detail(), "page": str(page_number)[:10]}
    if errors:
        detail["errors"] = ",".join(sorted(errors))
    audit_record(
        event="audit.search",
        outcome=Outcome.FAILURE if errors else Outcome.SUCCESS,
        request=request,
        detail=detail,
    )
    records = selectors.records_search(user=request.user, filters=filters) if not errors else None
    page = Paginator(records, selectors.PER_PAGE).get_page(page_number) if records is not None else None
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "values": {k: request.GET.get(k, "") for k in ("start", "end", "username", "event", "outcome", "ip")}
        | {k: request.GET.get(k, "") for k in ("object_type", "object_id")},
        "errors": errors,
        "events": sorted(EVENTS.items()),
        "outcomes": Outcome.choices,
        "query": query.urlencode(),
        "units": ap.audit_units(request.user),
        "unattributed": ap.sees_unattributed_audit(request.user),
    }
    return render(request, "audit/search.html", context, status=400 if errors else 200)


@login_required
def audit_export(request: AuthedHttpRequest) -> HttpResponse:
    _require_auditor(request)
    filters, errors = selectors.filters_parse(request.GET)
    if errors:
        audit_record(
            event="audit.export",
            outcome=Outcome.FAILURE,
            request=request,
            detail={**filters.as_detail(), "errors": ",".join(sorted(errors))},
        )
        return render(request, "error.html", {"title": "操作未完成", "message": "；".join(errors.values())}, status=400)
    records = list(selectors.records_search(user=request.user, filters=filters)[: selectors.EXPORT_MAX_ROWS])
    audit_record(event="audit.export", request=request, detail={**filters.as_detail(), "rows": len(records)})
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel on Windows reads UTF-8 CSV only with the BOM
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in selectors.CSV_COLUMNS])
    for record in records:
        writer.writerow(selectors.record_row(record))
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
