"""Users, org units (each a fonds 全宗) and role assignments per org unit."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from jishi.core.roles import ROLE_LABELS, Role


class RoleChoices(models.TextChoices):
    """Same codes as jishi.core.roles.Role (pure, used by procedure definitions)."""

    CLERK = Role.CLERK.value, ROLE_LABELS[Role.CLERK]
    SECTION_HEAD = Role.SECTION_HEAD.value, ROLE_LABELS[Role.SECTION_HEAD]
    DEPT_LEADER = Role.DEPT_LEADER.value, ROLE_LABELS[Role.DEPT_LEADER]
    DEPT_COMMITTEE = Role.DEPT_COMMITTEE.value, ROLE_LABELS[Role.DEPT_COMMITTEE]
    PARTY_COMMITTEE = Role.PARTY_COMMITTEE.value, ROLE_LABELS[Role.PARTY_COMMITTEE]
    DISCIPLINE = Role.DISCIPLINE.value, ROLE_LABELS[Role.DISCIPLINE]
    SUPERVISION = Role.SUPERVISION.value, ROLE_LABELS[Role.SUPERVISION]
    ARCHIVIST = Role.ARCHIVIST.value, ROLE_LABELS[Role.ARCHIVIST]
    SYSADMIN = Role.SYSADMIN.value, ROLE_LABELS[Role.SYSADMIN]
    SECADMIN = Role.SECADMIN.value, ROLE_LABELS[Role.SECADMIN]
    AUDITOR = Role.AUDITOR.value, ROLE_LABELS[Role.AUDITOR]


class User(AbstractUser):
    """用户 — a person who signs in; the Chinese full name is shown everywhere."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    title = models.CharField("职务", max_length=100, blank=True)
    pin_failures = models.PositiveSmallIntegerField("签名口令连续错误次数", default=0)
    signing_locked = models.BooleanField("签名已锁定", default=False)
    # 等保 mode: when the password was last set (expiry counts from here, or from date_joined while null)
    # and whether the password was set by an administrator and must be replaced at the next sign-in.
    password_changed_at = models.DateTimeField("口令设置时间", null=True, blank=True)
    password_must_change = models.BooleanField("下次登录须修改口令", default=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def __str__(self) -> str:
        return self.get_full_name()


class OrgUnit(models.Model):
    """组织机构 — an organization department; each is a fonds (全宗) with its own code and hash chain."""

    code = models.CharField("全宗号", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级机构"
    )

    class Meta:
        verbose_name = "组织机构"
        verbose_name_plural = "组织机构"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.short_name or self.name

    def descendants_and_self(self) -> list[OrgUnit]:
        """This unit and every unit below it, depth first — one query whatever the depth.

        The whole tree is read at once (a province has a few hundred units); a query per unit made the dashboard
        of a province's 部领导 run a thousand queries.
        """
        children: dict[int | None, list[OrgUnit]] = {}
        for unit in OrgUnit.objects.all():  # the model's ordering, as ``children.all()`` gave it
            children.setdefault(unit.parent_id, []).append(unit)
        units: list[OrgUnit] = []
        stack = [self]
        while stack:
            unit = stack.pop()
            units.append(unit)
            stack.extend(reversed(children.get(unit.pk, [])))
        return units


class RoleAssignment(models.Model):
    """角色授权 — a role a user holds in one org unit."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles", verbose_name="用户")
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="role_assignments", verbose_name="机构"
    )
    role = models.CharField("角色", max_length=30, choices=RoleChoices.choices)
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [
            models.UniqueConstraint(fields=["user", "org_unit", "role"], name="accounts_role_unique_user_unit_role")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.org_unit} · {self.get_role_display()}"


class KeyStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    RETIRED = "retired", "已更换"
    REVOKED = "revoked", "已吊销"


class SigningKey(models.Model):
    """个人签名密钥 — a user's Ed25519 key; the private half is sealed under the user's signing PIN."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signing_keys", verbose_name="用户")
    key_id = models.CharField("密钥标识", max_length=16, unique=True)
    public_key = models.CharField("公钥", max_length=64)
    sealed_private_key = models.TextField("加密私钥")
    status = models.CharField("状态", max_length=10, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    created_at = models.DateTimeField("启用时间")
    ended_at = models.DateTimeField("停用时间", null=True, blank=True)
    end_reason = models.CharField("停用原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "个人签名密钥"
        verbose_name_plural = "个人签名密钥"
        ordering = ["user", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="active"), name="accounts_signingkey_one_active_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.key_id}"


# --- Authentication (等保 mode): password history and the sessions a user holds -----------------------


class PasswordHistory(models.Model):
    """历史口令 — hashes of a user's previous passwords (a new password may not repeat the last five)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history", verbose_name="用户")
    password = models.CharField("口令摘要", max_length=128)
    created_at = models.DateTimeField("设置时间", default=timezone.now)

    class Meta:
        verbose_name = "历史口令"
        verbose_name_plural = "历史口令"
        ordering = ["user", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class UserSession(models.Model):
    """登录会话 — one sign-in (written at login) so a user's sessions can be listed and ended."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions", verbose_name="用户")
    session_key = models.CharField("会话标识", max_length=40, db_index=True)
    created_at = models.DateTimeField("登录时间", default=timezone.now)
    last_seen_at = models.DateTimeField("最近活动", default=timezone.now)
    ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    user_agent = models.CharField("客户端", max_length=200, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_reason = models.CharField("结束原因", max_length=30, blank=True)

    class Meta:
        verbose_name = "登录会话"
        verbose_name_plural = "登录会话"
        ordering = ["user", "-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"
