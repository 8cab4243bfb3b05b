"""API tokens (接口令牌) and idempotency records (幂等记录)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

User = settings.AUTH_USER_MODEL


class Scope(models.TextChoices):
    READ = "read", "读取"
    WRITE = "write", "办理"
    SIGN = "sign", "签名（凭签名口令）"


class ApiToken(models.Model):
    """接口令牌 — a bearer token acting as its user, within its scopes, until it expires or is revoked.

    Only the sha256 of the secret is stored; the secret is shown once, at creation.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name="用户")
    name = models.CharField("用途", max_length=100)
    prefix = models.CharField("前缀", max_length=12, unique=True)
    secret_hash = models.CharField("密钥摘要", max_length=64, unique=True)
    scopes = models.JSONField("权限范围", default=list)
    created_at = models.DateTimeField("创建时间")
    expires_at = models.DateTimeField("到期时间")
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"


class IdempotencyRecord(models.Model):
    """幂等记录 — the answer to a creating POST, replayed when the client retries with the same key."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", verbose_name="用户")
    key = models.CharField("幂等键", max_length=100)
    method = models.CharField("方法", max_length=10)
    path = models.CharField("路径", max_length=300)
    request_sha256 = models.CharField("请求摘要", max_length=64)
    status_code = models.PositiveIntegerField("状态码", default=0, help_text="0 = still being processed")
    content_type = models.CharField("内容类型", max_length=100, blank=True)
    body = models.BinaryField("响应内容", default=b"")
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "幂等记录"
        verbose_name_plural = "幂等记录"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_unique_user_key")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
