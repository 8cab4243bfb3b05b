"""Login lockout (5 failures → the account is locked 30 minutes) and per-address throttling (django-axes)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from jishi.accounts.lockout import account_locked, account_unlock
from jishi.core.exceptions import PermissionDenied
from jishi.core.testing import PASSWORD
from tests.auth_helpers import START, audits, page_login

WRONG = "Wrong-Password-1"


def _fail(client: Client, username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = page_login(client, username, WRONG, ip=ip)
        assert response.status_code in (200, 429)


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_five_failures_lock_the_account_and_the_correct_password_is_refused(world):
    client = Client()
    with time_machine.travel(START, tick=False):
        _fail(client, "alice", 4)
        assert not account_locked("alice")
        _fail(client, "alice", 1)
        assert account_locked("alice")

        response = page_login(client, "alice", PASSWORD)

    assert response.status_code == 429
    body = response.content.decode()
    assert "登录失败次数过多，已暂停登录 30 分钟" in body
    assert not _signed_in(client)
    [lockout] = audits("login.lockout")
    assert lockout.username == "alice" and lockout.ip == "10.0.0.1"
    failures = audits("login", outcome="failure")
    assert [f.username for f in failures] == ["alice"] * 6
    assert failures[-1].detail == {"reason": "locked"}
    assert not audits("login", outcome="success")


def test_the_lock_holds_from_any_address_and_ends_in_the_31st_minute(world):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _fail(client, "alice", 5, ip="10.0.0.1")
        traveller.shift(dt.timedelta(minutes=29))
        assert page_login(client, "alice", PASSWORD, ip="10.9.9.9").status_code == 429
        traveller.shift(dt.timedelta(minutes=2))  # 31 minutes after the fifth failure

        response = page_login(client, "alice", PASSWORD, ip="10.9.9.9")
        assert response.status_code == 302
        assert _signed_in(client)

    assert audits("login", outcome="success")[0].username == "alice"


def test_the_lockout_page_does_not_reveal_whether_the_account_exists(world):
    real, ghost = Client(), Client()
    _fail(real, "alice", 5, ip="10.0.0.1")
    _fail(ghost, "nobody-here", 5, ip="10.0.0.2")

    one = page_login(real, "alice", PASSWORD, ip="10.0.0.1")
    other = page_login(ghost, "nobody-here", PASSWORD, ip="10.0.0.2")

    assert one.status_code == other.status_code == 429
    assert "alice" not in one.content.decode()

    def panel(response) -> str:  # the page less the per-request CSRF token
        body = response.content.decode()
        return body[body.index("<main>") :]

    assert panel(one) == panel(other)


def test_a_success_before_the_limit_clears_the_account_failures(world):
    client = Client()
    _fail(client, "alice", 4)
    assert page_login(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    _fail(client, "alice", 4)
    assert not account_locked("alice")
    assert page_login(client, "alice", PASSWORD).status_code == 302


def test_an_address_failing_across_usernames_is_throttled(world, settings):
    assert settings.LOGIN_IP_FAILURE_LIMIT == 20
    attacker = Client()
    for n in range(20):
        _fail(attacker, f"guess{n}", 1, ip="10.6.6.6")  # one try each: no account reaches its own limit

    from_there = page_login(Client(), "bob", PASSWORD, ip="10.6.6.6")
    from_elsewhere_client = Client()
    from_elsewhere = page_login(from_elsewhere_client, "bob", PASSWORD, ip="10.0.0.7")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 302 and _signed_in(from_elsewhere_client)
    assert not account_locked("bob")
    assert len(audits("login.lockout")) == 1


def test_a_security_administrator_unlocks_an_account(world):
    client = Client()
    _fail(client, "alice", 5)
    assert page_login(client, "alice", PASSWORD).status_code == 429

    cleared = account_unlock(actor=world.sue, user=world.alice)

    assert cleared >= 1
    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert page_login(client, "alice", PASSWORD).status_code == 302
    [record] = audits("account.unlock")
    assert record.username == "sue"
    assert record.detail["username"] == "alice"


@pytest.mark.parametrize("actor", ["sam", "bob", "alice", "ivan"])
def test_only_a_security_administrator_may_unlock(world, actor):
    _fail(Client(), "alice", 5)
    with pytest.raises(PermissionDenied):
        account_unlock(actor=world.users[actor], user=world.alice)
    assert account_locked("alice")
    assert not audits("account.unlock")


def test_a_county_user_can_be_unlocked_from_the_city(world):
    _fail(Client(), "grace", 5)
    account_unlock(actor=world.sue, user=world.grace)
    assert not account_locked("grace")
