"""参考模本 pages: the list of every documentation item's template, and the .docx/.pdf downloads.

Templates hold no personal data, so anyone holding a role in any unit may read and download them. The
step page links to the *pinned* version of its batch (``version/<pk>/…``) so an old batch keeps its own
templates; the list and the ``<code>/…`` links show the latest loaded version of each procedure.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from jishi.accounts import permissions as perms
from jishi.accounts.models import RoleAssignment, User
from jishi.core.exceptions import ApplicationError
from jishi.core.types import AuthedHttpRequest
from jishi.procedures.models import ProcedureVersion
from jishi.procedures.schema import ProcedureDefinition
from jishi.procedures.selectors import procedure_version_latest

from .reference_templates import blank_template_docx, blank_template_pdf, reference_template

FORMATS: dict[str, tuple[Callable[[ProcedureDefinition, str], bytes], str]] = {
    "docx": (blank_template_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "pdf": (blank_template_pdf, "application/pdf"),
}


def _require_some_role(user: User) -> None:
    perms.require(RoleAssignment.objects.filter(user=user).exists(), "只有在本系统中担任职务的用户可以查看参考模本。")


def _latest(code: str) -> ProcedureVersion:
    try:
        return procedure_version_latest(code=code)
    except ApplicationError:
        raise Http404 from None


def _pinned(version_pk: int) -> ProcedureVersion:
    version = ProcedureVersion.objects.filter(pk=version_pk).first()
    if version is None:
        raise Http404
    return version


def _list_rows(version: ProcedureVersion) -> list[dict[str, object]]:
    """Stage → steps that declare items → items, for the list page."""
    definition = version.definition
    return [
        {"stage": stage, "steps": [{"step": step, "items": step.items} for step in stage.steps if step.items]}
        for stage in definition.stages
    ]


@login_required
def reference_template_list(request: AuthedHttpRequest, version_pk: int | None = None) -> HttpResponse:
    _require_some_role(request.user)
    if version_pk is not None:
        versions = [_pinned(version_pk)]
    else:
        codes = ProcedureVersion.objects.order_by("code").values_list("code", flat=True).distinct()
        versions = [_latest(code) for code in codes]
    procedures = [{"version": v, "definition": v.definition, "stages": _list_rows(v)} for v in versions]
    return render(request, "documents/reference_template_list.html", {"procedures": procedures})


def _download(version: ProcedureVersion, item_id: str, fmt: str) -> HttpResponse:
    make, content_type = FORMATS[fmt]
    definition = version.definition
    try:
        template = reference_template(definition, item_id)
    except KeyError:
        raise Http404(f"流程中没有编号为“{item_id}”的纪实项目。") from None
    response = HttpResponse(make(definition, item_id), content_type=content_type)
    # Typed ``str | None`` for inline use without a name; an attachment always gets a header.
    response["Content-Disposition"] = content_disposition_header(True, template.filename(fmt)) or "attachment"
    return response


@login_required
def reference_template_download(request: AuthedHttpRequest, code: str, item_id: str, fmt: str) -> HttpResponse:
    _require_some_role(request.user)
    return _download(_latest(code), item_id, fmt)


@login_required
def reference_template_version_download(
    request: AuthedHttpRequest, version_pk: int, item_id: str, fmt: str
) -> HttpResponse:
    _require_some_role(request.user)
    return _download(_pinned(version_pk), item_id, fmt)
