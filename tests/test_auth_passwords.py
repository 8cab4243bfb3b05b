"""Password policy (等保 mode): complexity, history of 5, expiry, change and administrator's reset."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from jishi.accounts.models import PasswordHistory, User, UserSession
from jishi.accounts.passwords import CharacterClassValidator, password_change, password_reset
from jishi.accounts.services import user_create
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import PASSWORD
from jishi.selection.demo import DEMO_PASSWORD
from tests.auth_helpers import START, audits, restore_policy


@pytest.fixture(autouse=True)
def _policy(settings):
    restore_policy(settings)


def test_the_shipped_settings_are_the_dengbao_policy(settings):
    assert settings.DENGBAO_MODE is True
    assert settings.PASSWORD_MIN_LENGTH == 12
    assert settings.PASSWORD_MAX_AGE_DAYS == 90
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "CharacterClassValidator",
        "PasswordHistoryValidator",
    ]


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short-9a", "password_too_short"),
        ("abcdefghijk-lmn", "password_too_simple"),
        ("ABCDEFGH12345", "password_too_simple"),
        ("Password1234", "password_too_common"),
    ],
)
def test_user_creation_refuses_a_password_outside_the_policy(world, password, rule):
    with pytest.raises(ApplicationError) as refused:
        user_create(actor=None, org_unit=world.city, username="newbie", full_name="新人", title="", password=password)
    assert refused.value.extra["rules"] == [rule]
    assert not User.objects.filter(username="newbie").exists()


def test_a_password_too_like_the_username_is_refused(world):
    with pytest.raises(ApplicationError) as refused:
        user_create(
            actor=None, org_unit=world.city, username="zhangweiming", full_name="", title="", password="Zhangweiming-1"
        )
    assert refused.value.extra["rules"] == ["password_too_similar"]


def test_three_of_four_character_classes_pass_and_any_non_alphanumeric_counts_as_a_symbol():
    validator = CharacterClassValidator(min_classes=3)
    validator.validate("abcdefgh12AB")
    validator.validate("abcdefgh12纪实")
    with pytest.raises(ValidationError):
        validator.validate("abcdefgh1234")


def test_the_demo_and_test_passwords_pass_the_policy():
    validate_password(DEMO_PASSWORD)
    validate_password(PASSWORD)


def test_a_new_password_may_not_repeat_any_of_the_last_five(world):
    alice = world.alice
    passwords = [PASSWORD] + [f"Neijiang-{n}-Pass" for n in range(1, 6)]
    for old, new in itertools.pairwise(passwords):
        password_change(user=alice, old_password=old, new_password=new)
    current = passwords[-1]
    for reused in passwords[1:]:
        with pytest.raises(ApplicationError, match="最近 5 次"):
            password_change(user=alice, old_password=current, new_password=reused)
    assert PasswordHistory.objects.filter(user=alice).count() == 5
    # The password six changes back has left the history.
    password_change(user=alice, old_password=current, new_password=PASSWORD)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_the_history_keeps_hashes_never_the_password(world):
    rows = PasswordHistory.objects.filter(user=world.alice)
    assert rows.count() == 1
    assert PASSWORD not in rows[0].password
    assert rows[0].password.startswith("md5$")  # the tests' hasher; a hash, not the text


def test_a_wrong_old_password_is_refused_and_audited(world):
    with pytest.raises(ApplicationError, match="原密码不正确"):
        password_change(user=world.alice, old_password="Not-The-Password-1", new_password="Brand-New-Pass-1")
    [record] = audits("password.change", outcome="failure")
    assert record.username == "alice"
    world.alice.refresh_from_db()
    assert world.alice.check_password(PASSWORD)


def test_changing_the_password_ends_the_other_sessions_and_rotates_this_one(world):
    here, elsewhere = Client(), Client()
    here.force_login(world.alice)
    elsewhere.force_login(world.alice)
    old_key = here.session.session_key
    other_key = elsewhere.session.session_key

    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password": "Brand-New-Pass-1", "new_password2": "Brand-New-Pass-1"},
    )

    assert response.status_code == 302
    new_key = here.session.session_key
    assert new_key != old_key
    assert not Session.objects.filter(session_key__in=[old_key, other_key]).exists()
    assert here.get(reverse("home")).status_code == 200
    assert elsewhere.get(reverse("home")).status_code == 302
    assert UserSession.objects.get(session_key=other_key).end_reason == "password_change"
    assert UserSession.objects.get(session_key=new_key).ended_at is None
    [record] = audits("password.change", outcome="success")
    assert record.detail == {"sessions_ended": 1}
    assert "Brand-New-Pass-1" not in str(record.detail)


def test_the_change_page_refuses_two_different_new_passwords(world):
    client = Client()
    client.force_login(world.alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password": "Brand-New-Pass-1", "new_password2": "Brand-New-Pass-2"},
    )
    assert response.status_code == 400
    assert "两次输入的新密码不一致" in response.content.decode()
    world.alice.refresh_from_db()
    assert world.alice.check_password(PASSWORD)


def test_an_expired_password_allows_nothing_but_changing_it(world):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        world.alice.password_changed_at = START
        world.alice.save()
        client.force_login(world.alice)
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(dt.timedelta(days=90, minutes=1))
        client.force_login(world.alice)  # a fresh login: the session limits are not what is tested here

        response = client.get(reverse("batch_list"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("password_change"))
        page = client.get(reverse("password_change"))
        assert "已使用超过 90 天" in page.content.decode()

        client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password": "Brand-New-Pass-1", "new_password2": "Brand-New-Pass-1"},
        )
        assert client.get(reverse("batch_list")).status_code == 200


def test_expiry_zero_means_never(world, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    client = Client()
    world.alice.password_changed_at = START - dt.timedelta(days=4000)
    world.alice.save()
    client.force_login(world.alice)
    assert client.get(reverse("home")).status_code == 200


def test_a_sysadmin_resets_a_password_of_his_unit_or_below_and_the_user_must_change_it(world):
    grace_client = Client()
    grace_client.force_login(world.grace)

    password_reset(actor=world.sam, user=world.grace, new_password="Reset-By-Admin-7")

    world.grace.refresh_from_db()
    assert world.grace.check_password("Reset-By-Admin-7")
    assert world.grace.password_must_change
    assert grace_client.get(reverse("home")).status_code == 302  # her session was ended
    [record] = audits("password.reset")
    assert record.username == "sam"
    assert record.detail == {"username": "grace", "sessions_ended": 1}

    client = Client()
    client.force_login(world.grace)
    response = client.get(reverse("home"))
    assert response["Location"].startswith(reverse("password_change"))
    assert "由管理员重置" in client.get(reverse("password_change")).content.decode()
    client.post(
        reverse("password_change"),
        {"old_password": "Reset-By-Admin-7", "new_password": "Grace-Own-Pass-8", "new_password2": "Grace-Own-Pass-8"},
    )
    world.grace.refresh_from_db()
    assert not world.grace.password_must_change
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("actor", ["bob", "sue", "grace"])
def test_only_a_sysadmin_above_the_user_may_reset_a_password(world, actor):
    with pytest.raises(PermissionDenied):
        password_reset(actor=world.users[actor], user=world.alice, new_password="Reset-By-Admin-7")
    world.alice.refresh_from_db()
    assert world.alice.check_password(PASSWORD)
    assert not audits("password.reset")


def test_a_reset_password_still_goes_through_the_policy(world):
    with pytest.raises(ApplicationError):
        password_reset(actor=world.sam, user=world.alice, new_password="short")
    with pytest.raises(ApplicationError, match="最近 5 次"):
        password_reset(actor=world.sam, user=world.alice, new_password=PASSWORD)
