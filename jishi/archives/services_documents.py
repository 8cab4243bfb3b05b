"""Archive documents handed out (归档文件目录, 移交清单, 销毁清单): each is an access event with its sha256."""

from __future__ import annotations

import hashlib

from django.db import transaction

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.core.exceptions import ApplicationError
from jishi.ledger.services import event_append

from . import selectors
from .catalogue_pdf import render_catalogue
from .catalogue_xlsx import catalogue_xlsx, transfer_xlsx
from .models import Disposition, Volume, VolumeKind
from .transfer_pdf import render_disposition_list, render_transfer_list


def _access(actor: User, fonds: str, action: str, subject: str, pk: int, content: bytes, fmt: str) -> None:
    with transaction.atomic():
        event_append(
            fonds=fonds,
            actor=actor,
            action=action,
            subject_type=subject,
            subject_id=pk,
            payload={"format": fmt, "sha256": hashlib.sha256(content).hexdigest()},
        )


def _fmt(fmt: str) -> str:
    if fmt not in ("pdf", "xlsx"):
        raise ApplicationError("格式应为 pdf 或 xlsx。", code="invalid_format")
    return fmt


def catalogue_export(*, actor: User, volume: Volume, fmt: str) -> bytes:
    perms.require(perms.can_view_archive(actor, volume.org_unit), "您无权查看该案卷。")
    data = selectors.catalogue(volume)
    content = render_catalogue(data) if _fmt(fmt) == "pdf" else catalogue_xlsx(data)
    _access(actor, volume.org_unit.code, "archive.catalogue_export", "volume", volume.pk, content, fmt)
    return content


def transfer_list_export(*, actor: User, volume: Volume, fmt: str) -> bytes:
    perms.require(perms.can_view_archive(actor, volume.org_unit), "您无权查看该案卷。")
    if volume.kind != VolumeKind.PERSONAL:
        raise ApplicationError("只有个人文书档案有人事档案移交清单。", code="not_personal")
    data = selectors.transfer_list(volume)
    content = render_transfer_list(data) if _fmt(fmt) == "pdf" else transfer_xlsx(data)
    _access(actor, volume.org_unit.code, "archive.transfer_list_export", "volume", volume.pk, content, fmt)
    return content


def disposition_list_export(*, actor: User, disposition: Disposition) -> bytes:
    perms.require(perms.can_view_archive(actor, disposition.org_unit), "您无权查看该销毁清单。")
    content = render_disposition_list(selectors.disposition_list(disposition))
    _access(
        actor,
        disposition.org_unit.code,
        "archive.disposition_list_export",
        "disposition",
        disposition.pk,
        content,
        "pdf",
    )
    return content
