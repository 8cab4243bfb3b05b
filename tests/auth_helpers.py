"""Helpers for the authentication tests: signing in through the login page (no test-client shortcut)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse

import jishi.settings as base_settings
from jishi.audit.models import AuditRecord
from jishi.core.testing import PASSWORD

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def restore_policy(settings: Any) -> None:
    """Undo conftest's relaxation: the limits as jishi/settings.py sets them (the shipped defaults)."""
    settings.SESSION_IDLE_MINUTES = base_settings.SESSION_IDLE_MINUTES
    settings.SESSION_MAX_HOURS = base_settings.SESSION_MAX_HOURS
    settings.PASSWORD_MAX_AGE_DAYS = base_settings.PASSWORD_MAX_AGE_DAYS


def page_login(client: Client, username: str, password: str = PASSWORD, ip: str = "10.0.0.1", **extra: Any) -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_USER_AGENT="测试浏览器"
    )


def audits(event: str, **filters: Any) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=event, **filters).order_by("id"))
