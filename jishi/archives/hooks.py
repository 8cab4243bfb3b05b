"""Filing as soon as something becomes fileable: called by selection after a step is completed or waived."""

from __future__ import annotations

import logging

from django.conf import settings

from jishi.accounts import permissions as perms
from jishi.accounts.models import User
from jishi.core.exceptions import ApplicationError
from jishi.selection import transitions
from jishi.selection.models import Batch, NominationStatus
from jishi.selection.selectors import batch_state, nomination_finished

from .models import Volume

log = logging.getLogger(__name__)


def _new_targets(batch: Batch) -> bool:
    filed = set(Volume.objects.filter(batch=batch).values_list("nomination_id", flat=True))
    for nomination in batch.nominations.filter(status=NominationStatus.ACTIVE):
        if nomination.pk not in filed and nomination_finished(nomination):
            return True
    return None not in filed and transitions.is_finished(batch.procedure.definition, batch_state(batch))


def step_done(*, actor: User, batch: Batch) -> list[Volume]:
    """Build the volumes a completion made possible; the archivist can always build them later instead.

    Runs after the completion has committed: a failure here never undoes the step, it is only logged.
    """
    if not settings.ARCHIVE_AUTO_BUILD or not perms.can_archive(actor, batch.org_unit, perms.ARCHIVE_BUILD):
        return []
    try:
        if not _new_targets(batch):
            return []
        from .services import volume_build

        return volume_build(actor=actor, batch=batch)
    except ApplicationError as exc:
        log.info("archive auto-build of %s skipped: %s", batch.number, exc)
    except Exception:
        log.exception("archive auto-build of %s failed; build it from 档案管理", batch.number)
    return []
