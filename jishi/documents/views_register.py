"""台账 page and Excel export; the batch's 纪实专用笔记本 as a printable page and as a PDF download.

Thin: authorize, parse the GET filters with a form, read through a selector or call an export service.
A batch outside the user's units is a 404 here (not 403): these pages print personal data, and whether a
batch of another department exists is itself not the user's business.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.core.types import AuthedHttpRequest
from jishi.selection.models import Batch
from jishi.selection.selectors import batches_for_user

from . import services_exports
from .notebook_data import notebook_for_batch
from .register import Register, register_rows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RegisterFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("提出时间自"), required=False, widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("至"), required=False, widget=forms.DateInput({"type": "date"}))
    org_unit = forms.ModelChoiceField(
        label=gettext_lazy("单位"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=gettext_lazy("全部可查看单位"),
    )
    include_dropped = forms.BooleanField(label=gettext_lazy("含已退出人选"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = perms.visible_unit_ids(user)
        self.fields["org_unit"].queryset = OrgUnit.objects.filter(pk__in=units).order_by("code")  # type: ignore[attr-defined]
        self.has_units = bool(units)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return data


def _page_number(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _register(request: AuthedHttpRequest, *, paged: bool) -> tuple[RegisterFilterForm, Register | None]:
    form = RegisterFilterForm(request.GET, user=request.user)
    perms.require(form.has_units, _("您没有查看台账的权限。"))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    unit = data["org_unit"]
    register = register_rows(
        user=request.user,
        date_from=data["date_from"],
        date_to=data["date_to"],
        org_unit_id=unit.pk if unit else None,
        include_dropped=data["include_dropped"],
        page=_page_number(request.GET.get("page")) if paged else None,
    )
    return form, register


@login_required
def register_page(request: AuthedHttpRequest) -> HttpResponse:
    form, register = _register(request, paged=True)
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {"form": form, "register": register, "query": filters.urlencode()}
    return render(request, "documents/register.html", context, status=200 if register else 400)


@login_required
def register_export(request: AuthedHttpRequest) -> HttpResponse:
    form, register = _register(request, paged=False)
    if register is None:
        return render(request, "documents/register.html", {"form": form, "register": None}, status=400)
    content = services_exports.register_export(actor=request.user, register=register)
    response = HttpResponse(content, content_type=XLSX)
    stamp = f"{timezone.localtime(register.generated_at):%Y%m%d}"
    response["Content-Disposition"] = content_disposition_header(True, f"干部选拔任用台账-{stamp}.xlsx") or ""
    return response


def _batch_or_404(user: User, pk: int) -> Batch:
    batch = batches_for_user(user).filter(pk=pk).first()
    if batch is None:
        raise Http404
    return batch


@login_required
def notebook_print(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request.user, pk)
    return render(request, "documents/notebook_print.html", {"batch": batch, "notebook": notebook_for_batch(batch)})


@login_required
def notebook_pdf(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    batch = _batch_or_404(request.user, pk)
    content = services_exports.notebook_export(actor=request.user, batch=batch)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, f"{batch.number}-纪实专用笔记本.pdf") or ""
    return response
