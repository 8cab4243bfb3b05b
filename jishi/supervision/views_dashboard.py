"""监督看板, the warning list and detail (with the signed explanation), and the 责任倒查 pages and exports.

Thin: authorize through the selectors' fetch-or-403 helpers, read, or call one service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from jishi.accounts import permissions as perms
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.types import AuthedHttpRequest
from jishi.ledger.selectors import events_for

from . import dashboard, exports, services, trace
from .models import EarlyWarning, Severity, WarningStatus

WARNINGS_PER_PAGE = 50
TRACE_PER_PAGE = 200
DASHBOARD_REFUSED = "只有干部监督、纪检监察、部领导和干部科长可以查看监督看板。"


class ExplainForm(forms.Form):
    explanation = forms.CharField(
        label=_("情况说明"), widget=forms.Textarea(attrs={"rows": 4}), min_length=5, max_length=4000
    )
    pin = forms.CharField(label=_("签名口令"), widget=forms.PasswordInput(render_value=False), max_length=64)


def _require_dashboard(request: AuthedHttpRequest) -> None:
    perms.require(bool(dashboard.dashboard_units(request.user)), DASHBOARD_REFUSED)


def _days(value: str | None) -> int:
    try:
        days = int(value or dashboard.DEADLINE_DAYS)
    except ValueError:
        return dashboard.DEADLINE_DAYS
    return min(max(days, 1), 365)


@login_required
def dashboard_page(request: AuthedHttpRequest) -> HttpResponse:
    _require_dashboard(request)
    user = request.user
    days = _days(request.GET.get("days"))
    unit_rows = dashboard.open_by_unit(user)
    rule_rows = dashboard.open_by_rule(user)
    severities = dashboard.severity_totals(unit_rows)
    progress = dashboard.batch_progress(user)
    context = {
        "severity_labels": [str(s.label) for s in dashboard.SEVERITY_ORDER],
        "unit_rows": unit_rows,
        "rule_rows": rule_rows,
        "severities": severities,
        "total_open": sum(entry[2].count for entry in severities),
        "deadlines": dashboard.deadlines(user, days=days),
        "days": days,
        "progress": progress,
        "key_posts": dashboard.key_posts(user),
        "chart": dashboard.chart_data(rule_rows, severities, progress),
        "can_trace": trace.can_trace(user),
    }
    return render(request, "supervision/dashboard.html", context)


@login_required
def warning_list(request: AuthedHttpRequest) -> HttpResponse:
    _require_dashboard(request)
    filters = dashboard.WarningFilters.from_query(request.GET)
    page = Paginator(dashboard.warnings_for_user(request.user, filters), WARNINGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "query": filters.as_query(),
        "units": dashboard.dashboard_units(request.user),
        "severities": Severity.choices,
        "statuses": WarningStatus.choices,
        "rules": sorted(set(dashboard.warnings_for_user(request.user).values_list("rule_code", flat=True))),
        "rule_titles": {code: dashboard.rule_title(code) for code in dashboard.REGISTRY},
    }
    return render(request, "supervision/warning_list.html", context)


def _render_warning(
    request: AuthedHttpRequest, warning: EarlyWarning, form: ExplainForm | None = None, status: int = 200
) -> HttpResponse:
    explainable = warning.is_open and warning.severity != Severity.BLOCK and services.can_explain(request.user, warning)
    history = events_for("earlywarning", warning.pk)
    context = {
        "warning": warning,
        "rule_title": dashboard.rule_title(warning.rule_code),
        "history": [(e, trace.action_label(e.action), e.signatures.all()) for e in history],
        "form": form or (ExplainForm() if explainable else None),
        "explainable": explainable,
        "can_trace": trace.can_trace(request.user, warning.org_unit),
    }
    return render(request, "supervision/warning_detail.html", context, status=status)


@login_required
def warning_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    return _render_warning(request, dashboard.get_warning_for_user(request.user, pk))


@login_required
@require_POST
def warning_explain(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    warning = dashboard.get_warning_for_user(request.user, pk)
    form = ExplainForm(request.POST)
    if not form.is_valid():
        return _render_warning(request, warning, form, status=400)
    try:
        services.warning_explain(
            actor=request.user,
            warning=warning,
            explanation=form.cleaned_data["explanation"],
            pin=form.cleaned_data["pin"],
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render_warning(request, warning, form, status=400)
    messages.success(request, "已签名作出情况说明，预警结束。")
    return redirect("warning_detail", pk=warning.pk)


# 责任倒查 ----------------------------------------------------------------------------------------------


def _download(file: exports.ExportFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename) or "attachment"
    return response


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404
    return fmt


@login_required
def trace_nomination(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    nomination = trace.get_nomination_for_trace(request.user, pk)
    context = {"nomination": nomination, "batch": nomination.batch, "rows": trace.nomination_trace(nomination)}
    return render(request, "supervision/trace_nomination.html", context)


@login_required
def trace_nomination_export(request: AuthedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    nomination = trace.get_nomination_for_trace(request.user, pk)
    return _download(exports.trace_nomination_export(actor=request.user, nomination=nomination, fmt=_format(fmt)))


@login_required
def trace_user(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    target = trace.get_user_for_trace(request.user, pk)
    paginator: Paginator[Any] = Paginator(trace.user_events(target, request.user), TRACE_PER_PAGE)
    events = paginator.get_page(request.GET.get("page"))
    # Rows are built for this page's events only: a clerk's ten years are tens of thousands of events.
    page = Page(trace.user_trace_rows(target, list(events.object_list)), events.number, paginator)
    context = {"target": target, "page": page, "fonds": [u.code for u in trace.trace_units(request.user)]}
    return render(request, "supervision/trace_user.html", context)


@login_required
def trace_user_export(request: AuthedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    target = trace.get_user_for_trace(request.user, pk)
    return _download(exports.trace_user_export(actor=request.user, user=target, fmt=_format(fmt)))


@login_required
def trace_warning(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    warning = trace.get_warning_for_trace(request.user, pk)
    context = {
        "warning": warning,
        "rule_title": dashboard.rule_title(warning.rule_code),
        "trace": trace.warning_trace(warning),
    }
    return render(request, "supervision/trace_warning.html", context)


@login_required
def trace_warning_export(request: AuthedHttpRequest, pk: int, fmt: str) -> HttpResponse:
    warning = trace.get_warning_for_trace(request.user, pk)
    return _download(exports.trace_warning_export(actor=request.user, warning=warning, fmt=_format(fmt)))
