"""工作日历: the month grid anyone signed in may read; 系统管理员 add, change and withdraw overrides.

Thin: authorize, clean with a form, call one service, redirect or re-render with the errors and the text kept.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jishi.accounts import permissions as perms
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.types import AuthedHttpRequest

from . import calendar_admin, selectors_calendar, services
from .forms_calendar import MonthForm, OverrideForm, OverrideRemoveForm


def _month_url(day: dt.date) -> str:
    return f"{reverse('work_calendar')}?{urlencode({'year': day.year, 'month': day.month})}"


def _render(
    request: AuthedHttpRequest,
    *,
    form: OverrideForm | None = None,
    remove_form: OverrideRemoveForm | None = None,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    year, month = MonthForm(request.GET).month_or(today)
    can_maintain = calendar_admin.can_maintain_calendar(request.user)
    context = {
        "view": selectors_calendar.month_view(year, month, today=today),
        "coverage": selectors_calendar.calendar_coverage(today),
        "years": range(today.year - 5, today.year + 3),
        "months": range(1, 13),
        "can_maintain": can_maintain,
        "form": form or (OverrideForm(prefix="set") if can_maintain else None),
        "remove_form": remove_form,
        "query": urlencode({"year": year, "month": month}),
    }
    return render(request, "supervision/calendar.html", context, status=status)


@login_required
@require_GET
def work_calendar_page(request: AuthedHttpRequest) -> HttpResponse:
    return _render(request)


@login_required
@require_POST
def work_calendar_override(request: AuthedHttpRequest) -> HttpResponse:
    perms.require(calendar_admin.can_maintain_calendar(request.user), calendar_admin.MAINTAIN_REFUSED)
    form = OverrideForm(request.POST, prefix="set")
    if not form.is_valid():
        return _render(request, form=form, status=400)
    day = form.cleaned_data["day"]
    try:
        services.workday_override_set(
            actor=request.user,
            day=day,
            is_working_day=form.cleaned_data["is_working_day"],
            note=form.cleaned_data["note"],
        )
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render(request, form=form, status=400)
    messages.success(request, _("已记录 %(day)s 的工作日调整。") % {"day": f"{day:%Y-%m-%d}"})
    return redirect(_month_url(day))


@login_required
@require_POST
def work_calendar_override_remove(request: AuthedHttpRequest) -> HttpResponse:
    perms.require(calendar_admin.can_maintain_calendar(request.user), calendar_admin.MAINTAIN_REFUSED)
    form = OverrideRemoveForm(request.POST, prefix="remove")
    if not form.is_valid():
        return _render(request, remove_form=form, status=400)
    day = form.cleaned_data["day"]
    try:
        calendar_admin.workday_override_remove(actor=request.user, day=day, note=form.cleaned_data["note"])
    except PermissionDenied:
        raise
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _render(request, remove_form=form, status=400)
    messages.success(request, _("已撤销 %(day)s 的工作日调整。") % {"day": f"{day:%Y-%m-%d}"})
    return redirect(_month_url(day))
