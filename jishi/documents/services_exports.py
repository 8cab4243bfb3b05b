"""Exports of personal data are access: each hands out a file and records one ledger event saying who took
what, when (as ``selection.services.material_download`` does for a material).

The file is rendered *before* the transaction (rendering a PDF takes a while and must not hold the chain's
head lock); the event is appended afterwards and the bytes are returned only once it is committed, so no
file leaves the system without its event. The event carries the sha256 of the bytes handed out.
"""

from __future__ import annotations

import hashlib

from django.db import transaction

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, RoleAssignment, User
from jishi.ledger.services import event_append
from jishi.selection.models import Batch

from .notebook_data import notebook_for_batch
from .notebook_pdf import render_notebook
from .register import Register
from .register_xlsx import register_xlsx


def actor_fonds(actor: User) -> str:
    """The fonds whose chain records the actor's own exports: the actor's own unit.

    A register can span several units (a 部领导 sees the counties below), so the data's units do not name one
    chain; the act is the actor's, and the actor's department is where its supervisors look for what its staff
    took out. A user holding roles in several units gets the first of those units (by 全宗号) that the user may
    view — deterministic, and normally the higher department, since codes are issued top-down.
    """
    visible = perms.visible_unit_ids(actor)
    own = (
        OrgUnit.objects.filter(pk__in=RoleAssignment.objects.filter(user=actor).values("org_unit"))
        .filter(pk__in=visible)
        .order_by("code")
        .first()
    )
    if own is None:
        perms.require(False, "您没有查看台账的权限。")
    assert own is not None
    return own.code


def register_export(*, actor: User, register: Register) -> bytes:
    """The register as an Excel workbook; records ``register.export`` (filters, row count, units, sha256)."""
    fonds = actor_fonds(actor)
    content = register_xlsx(register)
    with transaction.atomic():
        event_append(
            fonds=fonds,
            actor=actor,
            action="register.export",
            subject_type="register",
            subject_id=fonds,
            payload={
                "filters": register.filters.as_payload(),
                "rows": len(register.rows),
                "batches": sorted({row.batch_number for row in register.rows}),
                "format": "xlsx",
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
    return content


def notebook_export(*, actor: User, batch: Batch) -> bytes:
    """The batch's 纪实专用笔记本 as PDF; records ``notebook.export`` in the batch's own chain."""
    perms.require(perms.can_view_batch(actor, batch), "您无权查看该批次。")
    notebook = notebook_for_batch(batch)
    content = render_notebook(notebook)
    with transaction.atomic():
        event_append(
            fonds=batch.org_unit.code,
            actor=actor,
            action="notebook.export",
            subject_type="batch",
            subject_id=batch.pk,
            payload={
                "batch": batch.number,
                "entries": len(notebook.entries),
                "format": "pdf",
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
    return content
