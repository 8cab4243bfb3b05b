"""The public 任前公示 pages (no login): the current notices, one notice with its feedback form, and the
receipt. Standalone templates (``public/``) without navigation; every answer carries ``X-Robots-Tag``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from jishi.core.exceptions import ApplicationError
from jishi.selection.models import Nomination

from . import public, ratelimit
from .forms_public import FeedbackForm, feedback_token

ROBOTS = "noindex, nofollow, noarchive"


def _render(request: HttpRequest, template: str, context: dict[str, object], status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = ROBOTS
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return _render(request, "public/not_found.html", {}, status=404)


@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    return _render(request, "public/notice_list.html", {"notices": public.notices_current()})


def _notice_page(
    request: HttpRequest, notice: public.Notice, form: FeedbackForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {"notice": notice, "form": form, "token": feedback_token(notice.slug), "error": error}
    return _render(request, "public/notice_detail.html", context, status=status)


@ensure_csrf_cookie
@require_http_methods(["GET", "HEAD", "POST"])
def notice_detail(request: HttpRequest, slug: str) -> HttpResponse:
    notice = public.notice_get(slug=slug)
    if notice is None:
        return _not_found(request)
    if request.method != "POST":
        return _notice_page(request, notice, FeedbackForm(notice=notice))
    form = FeedbackForm(request.POST, notice=notice)
    if not form.is_valid():
        return _notice_page(request, notice, form, status=400)
    person = notice.person(form.cleaned_data["person"])
    nomination = (
        Nomination.objects.select_related("batch__org_unit", "cadre").filter(pk=person.nomination_id).first()
        if person
        else None
    )
    if nomination is None:  # the choice field already checked the key; the person may have been dropped since
        return _notice_page(request, notice, form, error=_("请从公示名单中选择反映对象。"), status=400)
    try:
        ratelimit.feedback_submit_limited(
            notice=notice,
            nomination=nomination,
            content=form.cleaned_data["content"],
            contact=form.cleaned_data["contact"],
            source=request.META.get("REMOTE_ADDR", ""),
        )
    except ratelimit.RateLimited as exc:
        return _notice_page(request, notice, form, error=exc.message, status=429)
    except ApplicationError as exc:
        return _notice_page(request, notice, form, error=exc.message, status=400)
    return redirect("public_feedback_received")


@require_GET
def feedback_received(request: HttpRequest) -> HttpResponse:
    return _render(request, "public/feedback_received.html", {})
