from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from jishi.accounts.models import RoleAssignment
from jishi.cadres.models import Cadre, Position
from jishi.core.roles import Role
from jishi.ledger.models import Chain
from jishi.ledger.selectors import chain_verify
from jishi.selection import demo, selectors
from jishi.selection.models import Batch
from jishi.supervision.models import EarlyWarning, PublicFeedback, WarningStatus


@pytest.mark.django_db
def test_the_demo_has_what_make_run_promises():
    demo.seed()
    assert Cadre.objects.count() == 30
    assert Position.objects.filter(filled__lt=F("quota")).exists()
    city_roles = set(RoleAssignment.objects.filter(org_unit__code="J001").values_list("role", flat=True))
    assert city_roles == {r.value for r in Role}
    finished, running = Batch.objects.get(number__endswith="-001"), Batch.objects.get(number__endswith="-002")
    assert selectors.batch_summary(finished)["finished"] is True
    assert finished.records.filter(status="waived").count() == 2
    assert finished.nominations.filter(status="dropped").count() == 1
    assert selectors.batch_summary(running) == {"stage": "考察", "finished": False, "active": 3, "total": 3}
    # Supervision has something to show: a blocking rule and several warnings fire on the demo data.
    open_warnings = EarlyWarning.objects.filter(status=WarningStatus.OPEN)
    assert open_warnings.filter(severity="block", rule_code="KP01").exists()  # key post awaiting review
    assert open_warnings.filter(severity="block", rule_code="W30").exists()  # a report during the notice
    assert open_warnings.filter(severity="warn").values("rule_code").distinct().count() >= 2
    noticed = Batch.objects.get(number__endswith="-003")
    assert PublicFeedback.objects.filter(nomination__batch=noticed, status="open").count() == 1
    record = noticed.records.get(step_id="R01")
    assert dt.date.fromisoformat(record.data["start_date"]) <= timezone.localdate()
    assert dt.date.fromisoformat(record.data["end_date"]) >= timezone.localdate()
    for chain in Chain.objects.all():
        assert chain_verify(chain) is None, chain.fonds
    assert demo.demo_exists()
