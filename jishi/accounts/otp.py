"""The second factor (TOTP, django-otp): enrolment, verification, and the 安全管理员's reset.

In 等保 mode (settings.OTP_REQUIRED) every user holding a role must pass a TOTP code after the password
(等保 三级 身份鉴别 c: two or more authentication techniques, one of them not a password). The session
remembers the verification (django_otp.login); SecondFactorMiddleware sends an unverified session here.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from jishi.audit.services import audit_record
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import Role

from .models import OrgUnit, RoleAssignment, User
from .sessions import user_sessions_end

DEVICE_NAME = "纪实动态口令"


def administered_units(actor: User, role: Role) -> set[int]:
    """Units `actor` administers in `role`: where it holds the role, and every unit below."""
    units: set[int] = set()
    for unit in OrgUnit.objects.filter(
        pk__in=RoleAssignment.objects.filter(user=actor, role=role.value).values("org_unit")
    ):
        units.update(u.pk for u in unit.descendants_and_self())
    return units


def administers(actor: User, user: User, role: Role) -> bool:
    """Whether `actor` holds `role` in a unit where `user` holds a role, or in a unit above it."""
    units = administered_units(actor, role)
    return bool(units) and RoleAssignment.objects.filter(user=user, org_unit__in=units).exists()


def otp_required(user: Any) -> bool:
    """A second factor is mandatory for this user (等保 mode and the user holds at least one role)."""
    if not getattr(settings, "OTP_REQUIRED", False) or not getattr(user, "is_authenticated", False):
        return False
    return RoleAssignment.objects.filter(user_id=user.pk).exists()


def otp_confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def otp_enrol_start(*, user: User) -> TOTPDevice:
    """The device being enrolled (a fresh random key, not yet confirmed), created once per enrolment."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def otp_secret_base32(device: TOTPDevice) -> str:
    """The key as authenticator apps take it for manual entry (RFC 4648 base32, no padding)."""
    return base64.b32encode(bytes(device.bin_key)).decode("ascii").rstrip("=")


def otp_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// enrolment URL as an inline SVG QR code (no external resource, no script)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, border=2))


def _verify(device: TOTPDevice, token: str) -> bool:
    token = "".join(token.split())
    if not token.isdigit():
        return False
    allowed, _ = device.verify_is_allowed()
    return bool(allowed) and bool(device.verify_token(token))


def otp_enrol_confirm(*, user: User, token: str, request: HttpRequest) -> TOTPDevice:
    """Confirm the device being enrolled with a code from it; the session counts as verified."""
    device = otp_enrol_start(user=user)
    ok = _verify(device, token)
    if not ok:
        audit_record(event="otp.enrol", outcome="failure", request=request, user=user)  # kept: raised after
        raise ApplicationError("动态口令不正确，请核对手机上的时间后重新输入。", code="otp_invalid")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        django_otp.login(request, device)
        audit_record(event="otp.enrol", request=request, user=user, object_type="otp_device", object_id=device.pk)
    return device


def otp_verify(*, user: User, token: str, request: HttpRequest) -> TOTPDevice:
    """Check the current code of the user's device; the session counts as verified."""
    device = otp_confirmed_device(user)
    if device is None:
        raise ApplicationError("尚未绑定动态口令设备。", code="otp_missing")
    allowed, _ = device.verify_is_allowed()
    ok = _verify(device, token)
    if not ok:
        detail = {} if allowed else {"reason": "throttled"}
        audit_record(event="otp.verify", outcome="failure", request=request, user=user, detail=detail)
        if not allowed:
            raise ApplicationError("动态口令错误次数过多，请稍候再试。", code="otp_throttled")
        raise ApplicationError("动态口令不正确，请重新输入。", code="otp_invalid")
    with transaction.atomic():
        django_otp.login(request, device)
        audit_record(event="otp.verify", request=request, user=user, object_type="otp_device", object_id=device.pk)
    return device


def otp_device_reset(*, actor: User, user: User) -> int:
    """A 安全管理员 of the user's unit (or above) removes the user's devices: they enrol again at next login.

    The user's open sessions end too (they were verified with the removed device).
    """
    if not administers(actor, user, Role.SECADMIN):
        raise PermissionDenied("只有该用户所在机构或上级机构的安全管理员可以重置其动态口令。")
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        ended = user_sessions_end(user=user, reason="otp_reset")
        audit_record(
            event="otp.reset",
            user=actor,
            object_type="user",
            object_id=user.pk,
            detail={"username": user.username, "devices": removed, "sessions_ended": ended},
        )
    return int(removed)


def otp_device_install(*, user: User, secret_base32: str) -> TOTPDevice:
    """A confirmed device with a given key — for the demo and tests only (never a way to enrol real users)."""
    padded = secret_base32.upper() + "=" * (-len(secret_base32) % 8)
    try:
        key = base64.b32decode(padded)
    except binascii.Error:
        raise ApplicationError("动态口令密钥不是有效的 base32 编码。", code="invalid") from None
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, key=key.hex(), confirmed=True)


def otp_current_code(device: TOTPDevice) -> str:
    """The code the device shows now (development's otp_code command and tests)."""
    from django_otp.oath import TOTP

    totp = TOTP(bytes(device.bin_key), device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
