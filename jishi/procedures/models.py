"""Stored procedure definitions. A batch pins the version it started with."""

from __future__ import annotations

from functools import lru_cache

from django.db import models

from .loader import parse_text
from .schema import ProcedureDefinition


@lru_cache(maxsize=32)
def _parse(sha256: str, source: str) -> ProcedureDefinition:
    return parse_text(source).definition


class ProcedureVersion(models.Model):
    """流程版本 — one loaded definition file, identified by the sha256 of its source."""

    code = models.CharField("流程代码", max_length=40)
    version = models.CharField("版本", max_length=40)
    name = models.CharField("名称", max_length=200)
    sha256 = models.CharField("源文件摘要", max_length=64)
    source = models.TextField("源文件")
    loaded_at = models.DateTimeField("载入时间", auto_now_add=True)

    class Meta:
        verbose_name = "流程版本"
        verbose_name_plural = "流程版本"
        ordering = ["code", "-loaded_at"]
        constraints = [models.UniqueConstraint(fields=["code", "sha256"], name="procedures_version_unique_code_sha")]

    def __str__(self) -> str:
        return f"{self.name}（{self.version}）"

    @property
    def definition(self) -> ProcedureDefinition:
        return _parse(self.sha256, self.source)
