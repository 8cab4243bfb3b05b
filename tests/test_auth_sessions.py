"""Sessions: key rotation at login, idle (15 min) and absolute (10 h) limits, logout, ending all of a user's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from jishi.accounts.models import UserSession
from jishi.accounts.sessions import user_sessions_active, user_sessions_end
from tests.auth_helpers import START, audits, page_login, restore_policy


@pytest.fixture(autouse=True)
def _policy(settings):
    restore_policy(settings)


def test_the_shipped_limits_are_15_minutes_idle_and_10_hours(settings):
    assert (settings.SESSION_IDLE_MINUTES, settings.SESSION_MAX_HOURS) == (15, 10)
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_login_rotates_the_session_key_and_records_the_session(world):
    client = Client()
    anonymous = client.session
    anonymous["seen_notice"] = True
    anonymous.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = anonymous.session_key
    before = anonymous.session_key

    assert page_login(client, "oscar", ip="10.1.2.3").status_code == 302

    after = client.session.session_key
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    row = UserSession.objects.get(session_key=after)
    assert (row.user, row.ip, row.user_agent, row.ended_at) == (world.oscar, "10.1.2.3", "测试浏览器", None)
    [record] = audits("login", outcome="success")
    assert record.username == "oscar" and record.ip == "10.1.2.3"


def test_a_failed_login_is_audited_with_the_username_and_never_the_password(world):
    page_login(Client(), "alice", "Not-The-Password-1")
    [record] = audits("login", outcome="failure")
    assert record.username == "alice"
    assert "Not-The-Password-1" not in str(record.detail)


def test_an_idle_session_ends_after_15_minutes(world):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(world.alice)
        key = client.session.session_key
        traveller.shift(dt.timedelta(minutes=14))
        assert client.get(reverse("home")).status_code == 200  # activity: the idle clock restarts
        traveller.shift(dt.timedelta(minutes=14))
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(dt.timedelta(minutes=15, seconds=30))

        response = client.get(reverse("batch_list"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?expired=idle")
        assert "较长时间未操作" in client.get(response["Location"]).content.decode()
    assert not Session.objects.filter(session_key=key).exists()
    row = UserSession.objects.get(session_key=key)
    assert row.end_reason == "expired_idle" and row.ended_at is not None
    [record] = audits("session.expired")
    assert record.username == "alice" and record.detail["reason"] == "idle"
    assert not audits("logout")


def test_an_active_session_ends_after_10_hours(world):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(world.alice)
        for _ in range(60):  # active every 10 minutes for 10 hours
            traveller.shift(dt.timedelta(minutes=10))
            assert client.get(reverse("home")).status_code == 200
        traveller.shift(dt.timedelta(minutes=1))

        response = client.get(reverse("home"))

    assert response["Location"].startswith(reverse("login") + "?expired=absolute")
    [record] = audits("session.expired")
    assert record.detail["reason"] == "absolute"


def test_logout_deletes_the_server_side_session(world):
    client = Client()
    client.force_login(world.alice)
    key = client.session.session_key

    client.post(reverse("logout"))

    assert not Session.objects.filter(session_key=key).exists()
    assert UserSession.objects.get(session_key=key).end_reason == "logout"
    [record] = audits("logout")
    assert record.username == "alice"


def test_ending_a_users_sessions_signs_out_every_browser_but_the_one_kept(world):
    laptop, desktop, phone = Client(), Client(), Client()
    for client in (laptop, desktop, phone):
        client.force_login(world.bob)
    other = Client()
    other.force_login(world.alice)
    keep = laptop.session.session_key
    assert len(user_sessions_active(user=world.bob)) == 3

    ended = user_sessions_end(user=world.bob, reason="test", keep_session_key=keep)

    assert ended == 2
    assert laptop.get(reverse("home")).status_code == 200
    assert desktop.get(reverse("home")).status_code == 302
    assert phone.get(reverse("home")).status_code == 302
    assert other.get(reverse("home")).status_code == 200
    assert [s.session_key for s in user_sessions_active(user=world.bob)] == [keep]
    [record] = audits("session.terminate")
    assert record.detail == {"reason": "test", "count": 2}
    assert user_sessions_end(user=world.bob, reason="test", keep_session_key=keep) == 0
    assert len(audits("session.terminate")) == 1
