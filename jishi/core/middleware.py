"""Turn domain errors that escape a view into a friendly page instead of a 500."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .exceptions import ApplicationError, PermissionDenied


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PermissionDenied):
            return render(request, "error.html", {"title": "无权访问", "message": exception.message}, status=403)
        if isinstance(exception, ApplicationError):
            return render(request, "error.html", {"title": "操作未完成", "message": exception.message}, status=400)
        return None
