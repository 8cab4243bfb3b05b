"""Demo: the finished batch is filed — built by the archivist, organized by her, accepted by the section head."""

from __future__ import annotations

from collections.abc import Callable

from jishi.accounts.models import User
from jishi.selection.models import Batch

from . import services


def archive_finished_batches(pin: str, progress: Callable[[str], None] = lambda message: None) -> int:
    archivist = User.objects.get(username="nj_archivist")
    head = User.objects.get(username="nj_head")
    count = 0
    for batch in Batch.objects.filter(org_unit__code="J001", volumes__isnull=True).order_by("created_at"):
        summary = batch.procedure.definition
        from jishi.selection import transitions
        from jishi.selection.selectors import batch_state

        if not transitions.is_finished(summary, batch_state(batch)):
            continue
        progress(f"为已完成的批次 {batch.number} 组卷、整理、验收归档 …")
        for volume in services.volume_build(actor=archivist, batch=batch):
            volume = services.volume_organize(actor=archivist, volume=volume, pin=pin, notes="")
            services.volume_accept(actor=head, volume=volume, pin=pin)
            count += 1
    return count
