"""Account administration under 三权分立: who may create, disable, enable, grant, revoke — and what each leaves."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from jishi.accounts.models import RoleAssignment, User, UserSession
from jishi.accounts.services import role_grant, user_create
from jishi.accounts.services_admin import role_revoke, user_disable, user_enable
from jishi.audit.models import AuditRecord
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import Role
from jishi.core.testing import PASSWORD
from jishi.ledger.models import Event

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kq7-river-lantern-93"


def _events(action: str, user: User) -> list[Event]:
    return list(Event.objects.filter(action=action, subject_type="user", subject_id=str(user.pk)))


def _audits(event: str, **filters: object) -> list[AuditRecord]:
    return list(AuditRecord.objects.filter(event=event, **filters))


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Services: who may ------------------------------------------------------------------------------------


def test_a_sysadmin_creates_an_account_in_his_unit_with_a_ledger_event_and_an_audit_record(world):
    user = user_create(
        actor=world.sam, org_unit=world.county, username="henry", full_name="何亮", title="", password=PASSWORD
    )
    assert [e.chain.fonds for e in _events("user.create", user)] == ["J002"]
    [record] = _audits("user.create", object_id=str(user.pk))
    assert (record.username, record.outcome, record.detail["org_unit"]) == ("sam", "success", "J002")


def test_a_secadmin_cannot_create_accounts_and_the_refusal_is_audited(world):
    with pytest.raises(PermissionDenied):
        user_create(
            actor=world.sue, org_unit=world.city, username="henry", full_name="何亮", title="", password=PASSWORD
        )
    assert not User.objects.filter(username="henry").exists()
    [record] = _audits("user.create", username="sue")
    assert record.outcome == "failure"


def test_a_sysadmin_cannot_grant_roles(world):
    with pytest.raises(PermissionDenied):
        role_grant(actor=world.sam, user=world.oscar, org_unit=world.city, role=Role.CLERK)
    assert not RoleAssignment.objects.filter(user=world.oscar).exists()
    assert _audits("role.grant", username="sam", outcome="failure")


def test_a_secadmin_grants_and_revokes_a_role_each_with_a_ledger_event_and_an_audit_record(world):
    assignment = role_grant(actor=world.sue, user=world.oscar, org_unit=world.city, role=Role.CLERK)
    role_revoke(actor=world.sue, assignment=assignment)
    assert not RoleAssignment.objects.filter(user=world.oscar).exists()
    grant, revoke = _events("role.grant", world.oscar), _events("role.revoke", world.oscar)
    assert [(e.chain.fonds, json.loads(e.payload)["role"]) for e in grant + revoke] == [
        ("J001", "clerk"),
        ("J001", "clerk"),
    ]
    for event in ("role.grant", "role.revoke"):
        [record] = _audits(event, object_id=str(world.oscar.pk))
        assert (record.username, record.outcome, record.detail["role"]) == ("sue", "success", "clerk")


def test_a_county_role_can_be_granted_by_the_city_secadmin_but_not_the_reverse(world):
    role_grant(actor=world.sue, user=world.oscar, org_unit=world.county, role=Role.CLERK)
    county_sec = user_create(
        actor=None, org_unit=world.county, username="csec", full_name="县安全员", title="", password=PASSWORD
    )
    role_grant(actor=None, user=county_sec, org_unit=world.county, role=Role.SECADMIN)
    with pytest.raises(PermissionDenied):
        role_grant(actor=county_sec, user=world.alice, org_unit=world.city, role=Role.SECTION_HEAD)


def test_nobody_may_hold_two_of_the_three_administrator_roles(world):
    with pytest.raises(ApplicationError, match="三权分立") as refused:
        role_grant(actor=world.sue, user=world.sam, org_unit=world.city, role=Role.AUDITOR)
    assert refused.value.code == "separation_of_duties"
    assert "系统管理员" in refused.value.message
    with pytest.raises(ApplicationError, match="三权分立"):  # management commands are held to it too
        role_grant(actor=None, user=world.ivan, org_unit=world.county, role=Role.SYSADMIN)
    for user, role in ((world.sam, "sysadmin"), (world.ivan, "auditor")):
        assert list(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) == [role]


def test_an_administrator_role_is_never_combined_with_a_selection_work_role(world):
    with pytest.raises(ApplicationError, match="业务角色"):
        role_grant(actor=world.sue, user=world.alice, org_unit=world.city, role=Role.SYSADMIN)
    with pytest.raises(ApplicationError, match="业务角色"):
        role_grant(actor=world.sue, user=world.ivan, org_unit=world.city, role=Role.CLERK)
    assert set(RoleAssignment.objects.filter(user=world.alice).values_list("role", flat=True)) == {"clerk"}


def test_a_secadmin_cannot_grant_an_administrator_role_to_himself(world):
    with pytest.raises(PermissionDenied, match="本人"):
        role_grant(actor=world.sue, user=world.sue, org_unit=world.county, role=Role.SECADMIN)
    assert RoleAssignment.objects.filter(user=world.sue).count() == 1


def test_the_auditor_cannot_change_anything(world):
    assignment = RoleAssignment.objects.get(user=world.alice)
    attempts = [
        lambda: user_create(
            actor=world.ivan, org_unit=world.city, username="x", full_name="x", title="", password=PASSWORD
        ),
        lambda: user_disable(actor=world.ivan, user=world.alice, reason="试图停用"),
        lambda: role_grant(actor=world.ivan, user=world.oscar, org_unit=world.city, role=Role.CLERK),
        lambda: role_revoke(actor=world.ivan, assignment=assignment),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    world.alice.refresh_from_db()
    assert world.alice.is_active and RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditRecord.objects.filter(username="ivan", outcome="failure").count() == 4


def test_disabling_an_account_ends_every_session_it_holds(world):
    browsers = [_client(world.alice), _client(world.alice)]
    keys = list(UserSession.objects.filter(user=world.alice).values_list("session_key", flat=True))
    assert len(keys) == 2 and Session.objects.filter(session_key__in=keys).count() == 2

    user_disable(actor=world.sam, user=world.alice, reason="调离")

    world.alice.refresh_from_db()
    assert not world.alice.is_active
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=world.alice, ended_at__isnull=True).exists()
    for browser in browsers:
        assert browser.get(reverse("batch_list")).status_code == 302  # back to the login page
    [event] = _events("user.disable", world.alice)
    assert (event.chain.fonds, json.loads(event.payload)["reason"]) == ("J001", "调离")
    [record] = _audits("user.disable", username="sam")
    assert (record.username, record.object_id, record.detail["sessions_ended"]) == ("sam", str(world.alice.pk), 2)


def test_an_enabled_account_signs_in_again_and_both_changes_are_recorded(world):
    user_disable(actor=world.sam, user=world.alice, reason="借调")
    user_enable(actor=world.sam, user=world.alice)
    world.alice.refresh_from_db()
    assert world.alice.is_active
    assert _events("user.enable", world.alice) and _audits("user.enable", username="sam")
    with pytest.raises(ApplicationError):
        user_enable(actor=world.sam, user=world.alice)


def test_disabling_needs_a_reason_and_is_never_done_to_oneself(world):
    with pytest.raises(ApplicationError, match="原因"):
        user_disable(actor=world.sam, user=world.alice, reason="  ")
    with pytest.raises(PermissionDenied):
        user_disable(actor=world.sam, user=world.sam, reason="测试")
    with pytest.raises(PermissionDenied):
        user_disable(actor=world.sue, user=world.alice, reason="安全管理员不能停用账号")
    assert User.objects.filter(username__in=["alice", "sam"], is_active=True).count() == 2


def test_commands_without_an_actor_keep_working(world):
    before = AuditRecord.objects.order_by("id").last()
    user = user_create(actor=None, org_unit=world.city, username="henry", full_name="何亮", title="", password=PASSWORD)
    assignment = role_grant(actor=None, user=user, org_unit=world.city, role=Role.CLERK)
    user_disable(actor=None, user=user, reason="演示")
    user_enable(actor=None, user=user)
    role_revoke(actor=None, assignment=assignment)
    assert [r.event for r in AuditRecord.objects.filter(id__gt=before.pk if before else 0).order_by("id")] == [
        "user.create",
        "role.grant",
        "user.disable",
        "user.enable",
        "role.revoke",
    ]


# Administrators see no selection records -------------------------------------------------------------


@pytest.mark.parametrize("name", ["sam", "sue", "ivan"])
def test_no_administrator_opens_a_selection_page(world, batch, name):
    client = _client(world.users[name])
    listing = client.get(reverse("batch_list"))
    assert listing.status_code in (200, 403)
    assert batch.number not in listing.content.decode()
    assert client.get(reverse("batch_detail", args=[batch.pk])).status_code == 403
    assert client.get(reverse("cadre_detail", args=[world.cadres[0].pk])).status_code == 403


# Pages ------------------------------------------------------------------------------------------------


def test_the_account_page_lists_the_units_accounts_with_roles_and_state(world):
    page = _client(world.sam).get(reverse("user_admin"))
    assert page.status_code == 200
    text = page.content.decode()
    for name in ("alice", "grace", "oscar", "ivan"):
        assert f'data-user="{name}"' in text
    assert "经办人" in text


@pytest.mark.parametrize("name", ["sue", "ivan", "alice"])
def test_only_a_sysadmin_opens_the_account_page(world, name):
    assert _client(world.users[name]).get(reverse("user_admin")).status_code == 403


def test_creating_an_account_on_the_page_keeps_the_values_when_refused(world):
    client = _client(world.sam)
    form = {"org_unit": "J002", "username": "henry", "full_name": "何亮", "title": "科员"}
    refused = client.post(reverse("user_admin"), {**form, "password": NEW_PASSWORD, "password2": "other"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "两次输入的口令不一致" in text and 'value="henry"' in text and 'value="何亮"' in text
    assert NEW_PASSWORD not in text
    created = client.post(reverse("user_admin"), {**form, "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert created.status_code == 302
    henry = User.objects.get(username="henry")
    assert henry.check_password(NEW_PASSWORD) and _events("user.create", henry)[0].chain.fonds == "J002"


def test_a_weak_password_on_the_account_page_creates_nothing(world):
    client = _client(world.sam)
    form = {"org_unit": "J002", "username": "henry", "full_name": "何亮", "title": "科员"}
    refused = client.post(reverse("user_admin"), {**form, "password": "short", "password2": "short"})
    assert refused.status_code == 400 and 'value="henry"' in refused.content.decode()
    assert not User.objects.filter(username="henry").exists()
    assert not Event.objects.filter(action="user.create", payload__contains="henry").exists()


def test_disabling_and_enabling_on_the_page(world):
    client = _client(world.sam)
    assert client.get(reverse("user_admin_disable", args=[world.alice.pk])).status_code == 405
    refused = client.post(reverse("user_admin_disable", args=[world.alice.pk]), {"reason": ""})
    assert refused.status_code == 400 and "请填写停用原因" in refused.content.decode()
    assert client.post(reverse("user_admin_disable", args=[world.alice.pk]), {"reason": "调离"}).status_code == 302
    assert not User.objects.get(pk=world.alice.pk).is_active
    assert client.post(reverse("user_admin_enable", args=[world.alice.pk])).status_code == 302
    assert User.objects.get(pk=world.alice.pk).is_active


def test_a_sysadmin_resets_a_password_on_the_page(world):
    client = _client(world.sam)
    url = reverse("user_admin_password", args=[world.alice.pk])
    assert client.post(url, {"new_password": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302
    alice = User.objects.get(pk=world.alice.pk)
    assert alice.check_password(NEW_PASSWORD)
    assert _audits("password.reset", username="sam", object_id=str(alice.pk))


def test_the_secadmin_grants_and_revokes_on_the_role_page_and_sees_the_refusal(world):
    client = _client(world.sue)
    assert client.get(reverse("role_admin")).status_code == 200
    refused = client.post(reverse("role_admin"), {"user": world.sam.pk, "org_unit": "J001", "role": "auditor"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "三权分立" in text and 'value="auditor" selected' in text
    granted = client.post(reverse("role_admin"), {"user": world.oscar.pk, "org_unit": "J001", "role": "clerk"})
    assert granted.status_code == 302
    assignment = RoleAssignment.objects.get(user=world.oscar)
    assert client.post(reverse("role_admin_revoke", args=[assignment.pk])).status_code == 302
    assert not RoleAssignment.objects.filter(user=world.oscar).exists()


@pytest.mark.parametrize("name", ["sam", "ivan"])
def test_only_a_secadmin_opens_the_role_and_session_pages(world, name):
    client = _client(world.users[name])
    assert client.get(reverse("role_admin")).status_code == 403
    assert client.get(reverse("session_admin")).status_code == 403
    grant = {"user": world.oscar.pk, "org_unit": "J001", "role": "clerk"}
    assert client.post(reverse("role_admin"), grant).status_code == 403
    assert not RoleAssignment.objects.filter(user=world.oscar).exists()


def test_the_secadmin_ends_one_session_then_all_of_a_users_sessions(world):
    _client(world.alice), _client(world.alice)
    first, second = UserSession.objects.filter(user=world.alice).order_by("pk")
    client = _client(world.sue)
    listing = client.get(reverse("session_admin")).content.decode()
    assert f'data-session="{first.pk}"' in listing and f'data-session="{second.pk}"' in listing
    assert client.post(reverse("session_admin_end", args=[first.pk])).status_code == 302
    assert not Session.objects.filter(session_key=first.session_key).exists()
    assert Session.objects.filter(session_key=second.session_key).exists()
    assert client.post(reverse("session_admin_end_all", args=[world.alice.pk])).status_code == 302
    assert not UserSession.objects.filter(user=world.alice, ended_at__isnull=True).exists()
    assert not Session.objects.filter(session_key=second.session_key).exists()
    assert _audits("session.terminate", username="sue")


def test_the_secadmin_unlocks_an_account_and_resets_its_totp_device(world):
    client = _client(world.sue)
    assert client.post(reverse("role_admin_unlock", args=[world.alice.pk])).status_code == 302
    assert client.post(reverse("role_admin_otp_reset", args=[world.alice.pk])).status_code == 302
    assert _audits("account.unlock", username="sue") and _audits("otp.reset", username="sue")
    assert _client(world.sam).post(reverse("role_admin_unlock", args=[world.alice.pk])).status_code == 403


def test_each_administrator_starts_on_his_own_page_and_sees_no_selection_menu(world):
    for admin, page in ((world.sam, "user_admin"), (world.sue, "role_admin"), (world.ivan, "audit_search")):
        client = _client(admin)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"] == reverse(page)
        body = client.get(reverse(page)).content.decode()
        assert reverse("batch_list") not in body and reverse("cadre_list") not in body
    body = _client(world.alice).get(reverse("home")).content.decode()
    assert reverse("batch_list") in body and reverse("user_admin") not in body
