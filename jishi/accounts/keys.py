"""Personal signing keys (个人签名密钥): enrolment, PIN change, rotation, revocation, lockout.

The private key is sealed under a key derived (scrypt) from the user's signing PIN, which is never
stored. Enrolment, rotation and revocation are ledger events signed by the unit's system key, so a
verifier learns from the ledger itself which public key was valid for whom, and when.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.roles import Role
from jishi.ledger import signing
from jishi.ledger.services import event_append, event_sign_system

from .models import KeyStatus, OrgUnit, RoleAssignment, SigningKey, User


def home_fonds(user: User) -> str:
    """The fonds whose chain records the user's key events: the unit of their earliest role."""
    assignment = RoleAssignment.objects.filter(user=user).select_related("org_unit").order_by("id").first()
    if assignment is None:
        raise ApplicationError("您尚未被授予任何角色，不能启用签名密钥。", code="no_role")
    return assignment.org_unit.code


def active_key(user: User) -> SigningKey | None:
    return SigningKey.objects.filter(user=user, status=KeyStatus.ACTIVE).first()


def _check_pin(pin: str) -> None:
    try:
        signing.validate_pin(pin)
    except ValueError as exc:
        raise ApplicationError(str(exc), code="weak_pin") from None


def user_fonds(user: User) -> list[str]:
    """Every fonds where the user holds a role: each publishes the user's key in its own chain."""
    codes = RoleAssignment.objects.filter(user=user).values_list("org_unit__code", flat=True)
    return sorted(set(codes))


def _key_event(
    user: User, actor: User, action: str, payload: dict[str, object], fonds: list[str] | None = None
) -> None:
    """Publish a key event, signed by each unit's system key. A key signs only in chains that published
    it, so a key slipped into some other (say, forged) chain is worthless."""
    targets = fonds if fonds is not None else user_fonds(user)
    if not targets:
        raise ApplicationError("您尚未被授予任何角色，不能启用签名密钥。", code="no_role")
    for code in targets:
        event = event_append(
            fonds=code,
            actor=actor,
            action=action,
            subject_type="user",
            subject_id=user.pk,
            payload={"username": user.username, **payload},
        )
        event_sign_system(event=event)


def signing_key_publish(*, user: User, fonds: str) -> None:
    """A user who gains a role in another unit: that unit's chain publishes their active key too."""
    key = active_key(user)
    if key is not None:
        _key_event(
            user,
            user,
            "signing_key.enrol",
            {"key_id": key.key_id, "public_key": key.public_key, "algorithm": "ed25519"},
            fonds=[fonds],
        )


def _new_key(user: User, pin: str) -> SigningKey:
    pair = signing.generate_keypair()
    return SigningKey.objects.create(
        user=user,
        key_id=signing.key_id(pair.public_key),
        public_key=pair.public_key.hex(),
        sealed_private_key=signing.seal_private_key(pair.private_key, pin, n_log2=settings.SIGNING_SCRYPT_N_LOG2),
        created_at=timezone.now(),
    )


def signing_key_enrol(*, user: User, pin: str) -> SigningKey:
    """Generate the user's first (or next, after revocation) key under a new signing PIN."""
    _check_pin(pin)
    if active_key(user):
        raise ApplicationError("您已有有效的签名密钥；如需更换，请使用“更换密钥”。", code="already_enrolled")
    with transaction.atomic():
        key = _new_key(user, pin)
        _key_event(
            user,
            user,
            "signing_key.enrol",
            {"key_id": key.key_id, "public_key": key.public_key, "algorithm": "ed25519"},
        )
    return key


def unseal(*, user: User, pin: str) -> tuple[SigningKey, bytes]:
    """Open the user's private key with the PIN; wrong PINs are counted and lock signing at the limit.

    The attempt is counted *before* the slow scrypt step and under a row lock, so guesses sent in
    parallel cannot run past the limit; a correct PIN clears the count again.
    """
    key = active_key(user)
    if key is None:
        raise ApplicationError("您尚未启用签名密钥，请先在“我的签名”页面设置签名口令。", code="no_key")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.signing_locked or locked.pin_failures >= settings.SIGNING_MAX_PIN_FAILURES:
            raise ApplicationError(
                "签名口令连续输错次数过多，签名已锁定，请联系安全管理员解锁。", code="signing_locked"
            )
        locked.pin_failures += 1
        locked.save(update_fields=["pin_failures"])
    try:
        private = signing.open_private_key(key.sealed_private_key, pin)
    except (signing.WrongPin, ValueError):
        _record_failure(user)
        raise ApplicationError(_failure_message(user), code="wrong_pin") from None
    User.objects.filter(pk=user.pk, signing_locked=False).update(pin_failures=0)  # a correct PIN ends the run
    return key, private


def _record_failure(user: User) -> None:
    # Its own transaction: the failure must stay counted although the caller's action is refused.
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.pin_failures >= settings.SIGNING_MAX_PIN_FAILURES:
            locked.signing_locked = True
            locked.save(update_fields=["signing_locked"])
        action = "signing.locked" if locked.signing_locked else "signing.pin_failed"
        event_append(
            fonds=home_fonds(user),
            actor=user,
            action=action,
            subject_type="user",
            subject_id=user.pk,
            payload={"username": user.username, "failures": locked.pin_failures},
        )
    user.pin_failures, user.signing_locked = locked.pin_failures, locked.signing_locked


def _failure_message(user: User) -> str:
    if user.signing_locked:
        return "签名口令错误，已连续错误 5 次，签名已锁定，请联系安全管理员解锁。"
    left = settings.SIGNING_MAX_PIN_FAILURES - user.pin_failures
    return f"签名口令错误，还可尝试 {left} 次。"


def signing_pin_change(*, user: User, old_pin: str, new_pin: str) -> SigningKey:
    """Re-seal the same key under a new PIN."""
    _check_pin(new_pin)
    key, private = unseal(user=user, pin=old_pin)
    with transaction.atomic():
        key.sealed_private_key = signing.seal_private_key(private, new_pin, n_log2=settings.SIGNING_SCRYPT_N_LOG2)
        key.save(update_fields=["sealed_private_key"])
        _key_event(user, user, "signing_key.pin_change", {"key_id": key.key_id})
    return key


def signing_key_rotate(*, user: User, pin: str) -> SigningKey:
    """Retire the current key and start a new one under the same PIN."""
    old, _ = unseal(user=user, pin=pin)
    with transaction.atomic():
        old.status, old.ended_at, old.end_reason = KeyStatus.RETIRED, timezone.now(), "本人更换密钥"
        old.save(update_fields=["status", "ended_at", "end_reason"])
        new = _new_key(user, pin)
        _key_event(
            user,
            user,
            "signing_key.rotate",
            {"old_key_id": old.key_id, "key_id": new.key_id, "public_key": new.public_key, "algorithm": "ed25519"},
        )
    return new


def _require_admin(actor: User, user: User) -> None:
    units = RoleAssignment.objects.filter(user=user).values_list("org_unit", flat=True)
    admin_units = set(
        RoleAssignment.objects.filter(user=actor, role=Role.SECADMIN.value).values_list("org_unit", flat=True)
    )
    ancestors: set[int] = set()
    for unit in OrgUnit.objects.filter(pk__in=units):
        node: OrgUnit | None = unit
        while node is not None:
            ancestors.add(node.pk)
            node = node.parent
    if not admin_units & ancestors:
        raise PermissionDenied("只有该用户所在单位（或上级单位）的安全管理员可以办理。")


def signing_key_revoke(*, actor: User, user: User, reason: str) -> SigningKey:
    """An administrator revokes a key (lost PIN, staff leaving); signatures made before stay valid."""
    _require_admin(actor, user)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写吊销原因。", code="required")
    key = active_key(user)
    if key is None:
        raise ApplicationError("该用户没有有效的签名密钥。", code="no_key")
    with transaction.atomic():
        key.status, key.ended_at, key.end_reason = KeyStatus.REVOKED, timezone.now(), reason[:200]
        key.save(update_fields=["status", "ended_at", "end_reason"])
        _key_event(user, actor, "signing_key.revoke", {"key_id": key.key_id, "reason": reason[:200]})
    return key


def signing_unlock(*, actor: User, user: User) -> User:
    """An administrator lifts a PIN lockout."""
    _require_admin(actor, user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(pin_failures=0, signing_locked=False)
        event_append(
            fonds=home_fonds(user),
            actor=actor,
            action="signing.unlock",
            subject_type="user",
            subject_id=user.pk,
            payload={"username": user.username},
        )
    user.refresh_from_db()
    return user
