"""The inbox (站内通知): listing, marking read one by one and all at once, and the nav's unread count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jishi.core.testing import PASSWORD, World
from jishi.supervision import services
from jishi.supervision.context_processors import unread_count
from jishi.supervision.inbox import notification_read_all
from jishi.supervision.models import Notification
from jishi.supervision.views_inbox import INBOX_PER_PAGE

pytestmark = pytest.mark.urls("tests.urls_public_notice")


def client_for(user) -> Client:
    client = Client()
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def notes(world: World) -> dict[str, Notification]:
    old = services.notification_send(user=world.erin, title="旧的已读通知", url="/supervision/feedback/1/")
    services.notification_read(user=world.erin, notification=old)
    return {
        "old": old,
        "new": services.notification_send(
            user=world.erin, title="公示期间收到反映：张伟", url="/supervision/warnings/9/"
        ),
        "evil": services.notification_send(user=world.erin, title="外部链接", url="https://evil.example/x"),
        "alice": services.notification_send(user=world.alice, title="李晓红的通知"),
    }


def test_the_inbox_lists_my_notifications_unread_first(world: World, notes):
    body = client_for(world.erin).get(reverse("inbox")).content.decode()
    table = body.split('id="inbox"')[1]
    assert "李晓红的通知" not in table
    assert table.index("公示期间收到反映") < table.index("旧的已读通知")
    assert table.index("外部链接") < table.index("旧的已读通知")
    assert 'href="/supervision/warnings/9/"' in table
    assert "evil.example" not in table  # a link leaving the site is not rendered
    assert table.count("标记已读") == 2


def test_marking_one_notification_read(world: World, notes):
    response = client_for(world.erin).post(reverse("inbox_read", args=[notes["new"].pk]))
    assert response.status_code == 302
    notes["new"].refresh_from_db()
    notes["evil"].refresh_from_db()
    assert notes["new"].read_at is not None and notes["evil"].read_at is None


def test_i_cannot_mark_someone_elses_notification(world: World, notes):
    response = client_for(world.erin).post(reverse("inbox_read", args=[notes["alice"].pk]))
    assert response.status_code == 403
    notes["alice"].refresh_from_db()
    assert notes["alice"].read_at is None


def test_marking_read_needs_a_post(world: World, notes):
    assert client_for(world.erin).get(reverse("inbox_read", args=[notes["new"].pk])).status_code == 405
    notes["new"].refresh_from_db()
    assert notes["new"].read_at is None


def test_mark_all_read_touches_only_my_unread_notifications(world: World, notes):
    old_read_at = notes["old"].read_at
    response = client_for(world.erin).post(reverse("inbox_read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=world.erin, read_at__isnull=True).exists()
    notes["old"].refresh_from_db()
    notes["alice"].refresh_from_db()
    assert notes["old"].read_at == old_read_at and notes["alice"].read_at is None
    assert notification_read_all(user=world.erin) == 0


def test_the_inbox_is_paginated(world: World):
    for i in range(INBOX_PER_PAGE + 3):
        services.notification_send(user=world.erin, title=f"通知{i:03d}")
    client = client_for(world.erin)
    first = client.get(reverse("inbox")).content.decode()
    second = client.get(reverse("inbox"), {"page": 2}).content.decode()
    assert "通知032" in first and "通知000" not in first
    assert "通知000" in second and "第 2 / 2 页" in second


def test_the_inbox_needs_a_login(db):
    response = Client().get(reverse("inbox"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_unread_count_costs_one_query(world: World, notes):
    request = RequestFactory().get("/")
    request.user = world.erin
    with CaptureQueriesContext(connection) as queries:
        assert unread_count(request) == {"unread_count": 2}
    assert len(queries) == 1


def test_the_unread_count_is_zero_for_anonymous_visitors_without_a_query(db):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with CaptureQueriesContext(connection) as queries:
        assert unread_count(request) == {"unread_count": 0}
    assert len(queries) == 0


def test_old_notifications_do_not_hide_new_unread_ones(world: World):
    services.notification_send(user=world.erin, title="最新")
    Notification.objects.filter(title="最新").update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    for i in range(INBOX_PER_PAGE):
        note = services.notification_send(user=world.erin, title=f"已读{i}")
        services.notification_read(user=world.erin, notification=note)
    first = client_for(world.erin).get(reverse("inbox")).content.decode()
    assert "最新" in first  # unread first, however old
