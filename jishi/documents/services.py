"""Generating documents. Handing out a document about a person is an access to personal data, so every
generation is a ledger event naming who took which document and the sha256 of exactly what they got."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.cadres.models import Cadre
from jishi.ledger.models import Chain
from jishi.ledger.services import checkpoint_create, event_append
from jishi.selection.models import Nomination

from . import pades
from .report_data import report_form
from .report_pdf import TITLE, render_report_form


@dataclass(frozen=True)
class GeneratedDocument:
    content: bytes
    filename: str
    content_type: str = "application/pdf"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _record_access(*, actor: User, fonds: str, action: str, subject: str, pk: int, payload: dict[str, Any]) -> None:
    with transaction.atomic():
        event_append(fonds=fonds, actor=actor, action=action, subject_type=subject, subject_id=pk, payload=payload)


def report_form_generate(*, actor: User, nomination: Nomination) -> GeneratedDocument:
    """The signed 全程纪实报告表 PDF of one nomination (一人一表).

    A checkpoint is signed first so that every record in the form is covered by one.
    """
    batch = nomination.batch
    perms.require(perms.can_view_batch(actor, batch), "您无权查看该人选的纪实报告表。")
    fonds = batch.org_unit.code
    with transaction.atomic():
        chain = Chain.objects.select_for_update().filter(fonds=fonds).first()
        if chain is not None and chain.seq:
            checkpoint_create(chain=chain)
    data = report_form(nomination, viewer=actor)
    pdf = pades.sign_pdf(
        render_report_form(data), fonds=fonds, reason=f"{TITLE} {nomination.number}", location=batch.org_unit.name
    )
    document = GeneratedDocument(pdf, f"{nomination.number}-全程纪实报告表.pdf")
    _record_access(
        actor=actor,
        fonds=fonds,
        action="document.report_form",
        subject="nomination",
        pk=nomination.pk,
        payload={"batch": batch.number, "nomination": nomination.number, "sha256": document.sha256},
    )
    return document


def approval_form_generate(*, actor: User, cadre: Cadre, nomination: Nomination | None = None) -> GeneratedDocument:
    """The 干部任免审批表 PDF from cadre master data (and the nomination's proposed post)."""
    from jishi.cadres.approval_io import form_from_cadre

    from .approval_form import render_approval_form

    if nomination is not None and nomination.cadre_id != cadre.pk:
        raise ValueError("nomination belongs to another cadre")
    if nomination is not None:
        perms.require(perms.can_view_batch(actor, nomination.batch), "您无权查看该人选的任免审批表。")
    else:
        perms.require(perms.can_view_cadre(actor, cadre), "您无权查看该干部的任免审批表。")
    fonds = (nomination.batch.org_unit if nomination else cadre.org_unit).code
    unit_name = (nomination.batch.org_unit if nomination else cadre.org_unit).name
    pdf = pades.sign_pdf(
        render_approval_form(form_from_cadre(cadre, nomination)),
        fonds=fonds,
        reason=f"干部任免审批表 {cadre.name}",
        location=unit_name,
    )
    stem = nomination.number if nomination else cadre.name
    document = GeneratedDocument(pdf, f"{stem}-干部任免审批表.pdf")
    _record_access(
        actor=actor,
        fonds=fonds,
        action="document.approval_form",
        subject="cadre",
        pk=cadre.pk,
        payload={"nomination": nomination.number if nomination else None, "sha256": document.sha256},
    )
    return document
