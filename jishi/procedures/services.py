from __future__ import annotations

from django.db import transaction

from jishi.accounts.models import User
from jishi.ledger.services import event_append

from .loader import LoadedDefinition
from .models import ProcedureVersion

SYSTEM_FONDS = "SYS"


def procedure_version_register(*, loaded: LoadedDefinition, actor: User | None) -> tuple[ProcedureVersion, bool]:
    """Store a validated definition; loading the same source twice is a no-op."""
    definition = loaded.definition
    with transaction.atomic():
        existing = ProcedureVersion.objects.filter(code=definition.code, sha256=loaded.sha256).first()
        if existing:
            return existing, False
        version = ProcedureVersion.objects.create(
            code=definition.code,
            version=definition.version,
            name=definition.name,
            sha256=loaded.sha256,
            source=loaded.source,
        )
        event_append(
            fonds=SYSTEM_FONDS,
            actor=actor,
            action="procedure.register",
            subject_type="procedure_version",
            subject_id=version.pk,
            payload={
                "code": definition.code,
                "version": definition.version,
                "sha256": loaded.sha256,
                "counts": definition.counts(),
            },
        )
    return version, True
