"""API: archive downloads — the 归档文件目录 (PDF/XLSX) and archived volumes as a BagIt package in a ZIP.

Each download is an access event (``archive.catalogue_export`` / ``archive.volume_export``) written by the
service. The package is exported into a temporary directory, zipped into an anonymous temporary file and the
directory removed before the answer streams; the file disappears when the answer is closed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import P, QueryEx, Router

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.api.auth import actor
from jishi.api.schemas import ERRORS
from jishi.archives import services, services_documents
from jishi.archives.models import Volume, VolumeStatus
from jishi.archives.package import safe_name
from jishi.archives.views import CONTENT_TYPES, download

router = Router()

ZIP = "application/zip"
FormatQuery = QueryEx[Literal["pdf", "xlsx"], P(alias="format", description="pdf 或 xlsx")]


def _binary(description: str, *content_types: str) -> dict[str, Any]:
    """OpenAPI for a file answer: the 200 body is bytes of these media types, not JSON."""
    content = {t: {"schema": {"type": "string", "format": "binary"}} for t in content_types}
    return {"responses": {200: {"description": description, "content": content}}}


def _zip_directory(root: Path, into: IO[bytes]) -> None:
    """Every regular file below ``root`` under ``<root name>/…``; links are never followed or stored."""
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for directory, subdirs, files in os.walk(root, followlinks=False):
            subdirs[:] = sorted(d for d in subdirs if not os.path.islink(os.path.join(directory, d)))
            for name in sorted(files):
                path = Path(directory, name)
                if path.is_symlink() or not path.is_file():
                    continue
                archive.write(path, (Path(root.name) / path.relative_to(root)).as_posix())


def package_response(user: User, volumes: list[Volume], name: str) -> FileResponse:
    """Export ``volumes`` with ``volume_export``, zip the package and stream it back as ``<name>.zip``."""
    work = Path(tempfile.mkdtemp(prefix="jishi-api-export-"))
    try:
        out = work / name
        services.volume_export(actor=user, volumes=volumes, out=out)
        buffer = tempfile.TemporaryFile()  # noqa: SIM115 — closed by FileResponse when the answer ends
        try:
            _zip_directory(out, buffer)
        except BaseException:
            buffer.close()
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{name}.zip", content_type=ZIP)


@router.get(
    "/volumes/{volume_id}/catalogue",
    response={200: None, **ERRORS},
    openapi_extra=_binary("归档文件目录文件", *CONTENT_TYPES.values()),
    summary="下载归档文件目录（PDF 或 XLSX）",
)
def volume_catalogue(request: HttpRequest, volume_id: int, fmt: FormatQuery = "pdf") -> HttpResponse:
    user = actor(request)
    volume = perms.get_volume_for_user(user, volume_id)
    content = services_documents.catalogue_export(actor=user, volume=volume, fmt=fmt)
    return download(content, fmt, f"{volume.code}-归档文件目录.{fmt}")


@router.get(
    "/volumes/{volume_id}/export",
    response={200: None, **ERRORS},
    openapi_extra=_binary("归档信息包（BagIt 目录的 ZIP 压缩包）", ZIP),
    summary="导出已归档案卷的归档信息包（ZIP）",
)
def volume_export(request: HttpRequest, volume_id: int) -> FileResponse:
    user = actor(request)
    volume = perms.get_volume_for_user(user, volume_id)
    return package_response(user, [volume], safe_name(volume.code))


@router.get(
    "/batches/{batch_id}/export",
    response={200: None, **ERRORS},
    openapi_extra=_binary("归档信息包（BagIt 目录的 ZIP 压缩包）", ZIP),
    summary="导出批次全部已归档案卷的归档信息包（ZIP）",
)
def batch_export(request: HttpRequest, batch_id: int) -> FileResponse:
    user = actor(request)
    batch = perms.get_batch_for_user(user, batch_id)
    perms.require(perms.can_view_archive(user, batch.org_unit), "您无权导出该批次的档案。")
    volumes = list(
        Volume.objects.filter(batch=batch, status=VolumeStatus.ARCHIVED)
        .select_related("org_unit", "batch", "nomination__cadre")
        .order_by("kind", "code")
    )
    return package_response(user, volumes, safe_name(batch.number))
