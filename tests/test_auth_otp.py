"""The TOTP second factor: mandatory for every user holding a role; enrolment, verification, reset."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from jishi.accounts.otp import otp_current_code, otp_device_install, otp_device_reset
from jishi.core.exceptions import PermissionDenied
from jishi.selection.demo import DEMO_OTP_SECRET
from tests.auth_helpers import START, audits, page_login


def test_a_user_without_a_device_is_sent_to_enrol_and_can_open_nothing_else(world):
    client = Client()
    assert page_login(client, "alice").status_code == 302

    for name in ("home", "batch_list", "cadre_list", "signing", "password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("otp_setup")), name
    assert client.post(reverse("batch_list"), {}).status_code == 302

    page = client.get(reverse("otp_setup"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and "<script" not in body.split("<main>")[1]
    device = TOTPDevice.objects.get(user=world.alice, confirmed=False)
    from jishi.accounts.otp import otp_secret_base32

    assert otp_secret_base32(device) in body


def test_enrolment_needs_a_correct_code_and_each_attempt_is_audited(world):
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        page_login(client, "alice")
        client.get(reverse("otp_setup"))
        device = TOTPDevice.objects.get(user=world.alice)

        bad = "000000" if otp_current_code(device) != "000000" else "111111"
        wrong = client.post(reverse("otp_setup"), {"token": bad})
        assert wrong.status_code == 400
        assert "动态口令不正确" in wrong.content.decode()
        assert client.get(reverse("home")).status_code == 302

        traveller.shift(dt.timedelta(seconds=5))  # past django-otp's throttle delay after a failure
        right = client.post(reverse("otp_setup"), {"token": otp_current_code(device), "next": reverse("batch_list")})
        assert right.status_code == 302 and right["Location"] == reverse("batch_list")
        assert client.get(reverse("home")).status_code == 200

    device.refresh_from_db()
    assert device.confirmed
    assert [(r.outcome, r.username) for r in audits("otp.enrol")] == [("failure", "alice"), ("success", "alice")]


def test_a_user_with_a_device_must_enter_the_current_code(world):
    device = otp_device_install(user=world.bob, secret_base32=DEMO_OTP_SECRET)
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        page_login(client, "bob")
        response = client.get(reverse("batch_list"))
        assert response["Location"] == reverse("otp_verify") + "?next=" + quote(reverse("batch_list"), safe="")

        refused = client.post(reverse("otp_verify"), {"token": "12345"})
        assert refused.status_code == 400
        assert client.get(reverse("home")).status_code == 302

        traveller.shift(dt.timedelta(seconds=5))  # django-otp throttles after a failure (1 s, then 2 s …)
        accepted = client.post(reverse("otp_verify"), {"token": otp_current_code(device)})
        assert accepted.status_code == 302
        assert client.get(reverse("home")).status_code == 200

    outcomes = [r.outcome for r in audits("otp.verify")]
    assert outcomes == ["failure", "success"]


def test_a_code_is_not_accepted_twice(world):
    device = otp_device_install(user=world.bob, secret_base32=DEMO_OTP_SECRET)
    first, second = Client(), Client()
    with time_machine.travel(START, tick=False):
        page_login(first, "bob")
        page_login(second, "bob", ip="10.0.0.2")
        code = otp_current_code(device)
        assert first.post(reverse("otp_verify"), {"token": code}).status_code == 302
        assert second.post(reverse("otp_verify"), {"token": code}).status_code == 400


def test_repeated_wrong_codes_are_throttled(world):
    device = otp_device_install(user=world.bob, secret_base32=DEMO_OTP_SECRET)
    client = Client()
    with time_machine.travel(START, tick=False):
        page_login(client, "bob")
        client.post(reverse("otp_verify"), {"token": "000001"})
        throttled = client.post(reverse("otp_verify"), {"token": otp_current_code(device)})
    assert throttled.status_code == 400
    assert "错误次数过多" in throttled.content.decode()
    assert audits("otp.verify")[-1].detail == {"reason": "throttled"}


def test_open_pages_stay_open_before_the_second_factor(world):
    client = Client()
    page_login(client, "alice")
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("public_notice_list")).status_code == 200
    assert client.get(reverse("otp_setup")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_the_json_api_uses_tokens_and_is_not_gated(world):
    from jishi.api.tokens import token_create

    _, secret = token_create(actor=world.alice, name="测试", scopes=["read"], days=30)
    client = Client()
    page_login(client, "alice")  # an unverified session cookie rides along; the API ignores it
    response = client.get("/api/v1/batches", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_a_user_without_any_role_is_not_asked_for_a_second_factor(world):
    client = Client()
    page_login(client, "oscar")
    assert client.get(reverse("home")).status_code == 200


def test_outside_dengbao_mode_the_second_factor_is_optional(world, settings):
    settings.OTP_REQUIRED = False
    client = Client()
    page_login(client, "alice")
    assert client.get(reverse("home")).status_code == 200


def test_the_test_clients_force_login_passes_the_second_factor(world):
    client = Client()
    client.force_login(world.alice)
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.filter(user=world.alice, confirmed=True).count() == 1


def test_a_security_administrator_resets_a_device_and_the_user_enrols_again(world):
    otp_device_install(user=world.grace, secret_base32=DEMO_OTP_SECRET)
    grace = Client()
    grace.force_login(world.grace)
    session_key = grace.session.session_key

    removed = otp_device_reset(actor=world.sue, user=world.grace)

    assert removed == 1
    assert not TOTPDevice.objects.filter(user=world.grace).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    [record] = audits("otp.reset")
    assert record.username == "sue" and record.detail["username"] == "grace"
    fresh = Client()
    page_login(fresh, "grace")
    assert fresh.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))


@pytest.mark.parametrize("actor", ["sam", "bob", "ivan", "grace"])
def test_only_a_security_administrator_above_the_user_may_reset_a_device(world, actor):
    otp_device_install(user=world.alice, secret_base32=DEMO_OTP_SECRET)
    with pytest.raises(PermissionDenied):
        otp_device_reset(actor=world.users[actor], user=world.alice)
    assert TOTPDevice.objects.filter(user=world.alice).exists()
    assert not audits("otp.reset")


def test_otp_code_prints_the_current_code_in_development(world, settings):
    device = otp_device_install(user=world.alice, secret_base32=DEMO_OTP_SECRET)
    out = io.StringIO()
    with time_machine.travel(START, tick=False):
        call_command("otp_code", "alice", stdout=out)
        assert out.getvalue().strip() == otp_current_code(device)
    settings.JISHI_ENV = "production"
    with pytest.raises(CommandError, match="生产环境"):
        call_command("otp_code", "alice", stdout=io.StringIO())
