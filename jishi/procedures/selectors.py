from __future__ import annotations

from jishi.core.exceptions import ApplicationError

from .models import ProcedureVersion


def procedure_version_latest(*, code: str) -> ProcedureVersion:
    version = ProcedureVersion.objects.filter(code=code).order_by("-loaded_at", "-pk").first()
    if version is None:
        raise ApplicationError(f"流程“{code}”尚未载入，请先运行 manage.py procedure load。", code="procedure_missing")
    return version
