"""After archiving: hand-over to the personnel file, legal holds, retention review and destruction."""

from __future__ import annotations

import datetime as dt

import pytest

from jishi.archives import selectors, services_custody
from jishi.archives.models import ArchiveItem, DispositionStatus, Volume, VolumeKind
from jishi.core import storage
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN
from jishi.ledger import selectors as ledger_selectors
from jishi.ledger.models import Chain, Event


def _personal(batch) -> Volume:
    return Volume.objects.get(batch=batch, kind=VolumeKind.PERSONAL)


def test_the_transfer_list_names_the_approval_form_under_9_2_and_the_handover_is_signed(world, archived_batch):
    volume = _personal(archived_batch)
    listed = selectors.transfer_list(volume)
    assert ("9-2 任免", "[张伟干部任免审批表]") in {(r.category, r.title) for r in listed.rows}
    assert any(r.category.startswith("3 ") and "考察材料" in r.title for r in listed.rows)
    assert listed.signature == ""
    transfer = services_custody.transfer_sign(
        actor=world.frank, volume=volume, received_by="干部档案室 周敏", pin=SIGNING_PIN
    )
    event = Event.objects.get(action="archive.transfer_sign")
    assert event.seq == transfer.event_seq and [(s.signer, s.role) for s in event.signatures.all()] == [
        ("frank", "handover")
    ]
    assert selectors.transfer_list(volume).signature.endswith(f"J001#{event.seq}")
    with pytest.raises(ApplicationError) as again:
        services_custody.transfer_sign(actor=world.frank, volume=volume, received_by="周敏", pin=SIGNING_PIN)
    assert again.value.code == "already_transferred"
    with pytest.raises(PermissionDenied):
        services_custody.transfer_sign(actor=world.alice, volume=volume, received_by="周敏", pin=SIGNING_PIN)


def _expire_d10(batch) -> list[ArchiveItem]:
    ArchiveItem.objects.filter(volume__batch=batch, retention="D10").update(year=2010)
    return list(ArchiveItem.objects.filter(volume__batch=batch, retention="D10"))


def test_expired_items_are_destroyed_only_after_signed_approval_and_leave_a_signed_record(world, archived_batch):
    expired = _expire_d10(archived_batch)
    assert expired and set(selectors.expired_items(world.city, dt.date(2026, 11, 27))) == set(expired)
    assert (
        not ArchiveItem.objects.filter(retention="Y")
        .filter(pk__in=[i.pk for i in selectors.expired_items(world.city)])
        .exists()
    )
    disposition = services_custody.disposition_propose(
        actor=world.frank,
        unit=world.city,
        items=expired,
        title="2026年到期档案销毁",
        reason="保管期限已满，经鉴定无继续保存价值",
    )
    with pytest.raises(ApplicationError) as early:
        services_custody.disposition_execute(actor=world.frank, disposition=disposition, pin=SIGNING_PIN)
    assert early.value.code == "not_approved"
    services_custody.disposition_decide(
        actor=world.carol, disposition=disposition, approve=True, note="同意", pin=SIGNING_PIN
    )
    sha = expired[0].sha256
    services_custody.disposition_execute(actor=world.frank, disposition=disposition, pin=SIGNING_PIN)
    disposition.refresh_from_db()
    assert disposition.status == DispositionStatus.EXECUTED
    assert all(i.destroyed for i in ArchiveItem.objects.filter(pk__in=[i.pk for i in expired]))
    executed = Event.objects.get(action="archive.disposition_execute")
    assert [(s.signer, s.role) for s in executed.signatures.all()] == [("frank", "executor")]
    if sha:
        assert not storage.exists(sha)
    # The ledger still verifies: the missing file's destruction is on record.
    assert ledger_selectors.chain_verify(Chain.objects.get(fonds="J001")) is None


def test_a_legal_hold_blocks_destruction_until_it_is_released(world, archived_batch):
    expired = _expire_d10(archived_batch)
    volume = expired[0].volume
    hold = services_custody.hold_place(actor=world.dave, volume=volume, reason="信访核查需要，暂停销毁")
    with pytest.raises(ApplicationError) as held:
        services_custody.disposition_propose(
            actor=world.frank, unit=world.city, items=expired, title="销毁", reason="到期"
        )
    assert held.value.code == "held"
    services_custody.hold_release(actor=world.dave, hold=hold, reason="核查结束")
    disposition = services_custody.disposition_propose(
        actor=world.frank, unit=world.city, items=expired, title="销毁", reason="到期"
    )
    services_custody.hold_place(actor=world.erin, volume=volume, reason="巡视期间保全")
    with pytest.raises(ApplicationError) as again:
        services_custody.disposition_decide(
            actor=world.carol, disposition=disposition, approve=True, note="", pin=SIGNING_PIN
        )
    assert again.value.code == "held"
    assert not ArchiveItem.objects.filter(destroyed=True).exists()
    assert [e.action for e in Event.objects.filter(action__startswith="archive.hold").order_by("seq")] == [
        "archive.hold_place",
        "archive.hold_release",
        "archive.hold_place",
    ]


def test_items_whose_retention_has_not_run_out_cannot_be_listed_and_the_proposer_cannot_approve(world, archived_batch):
    permanent = list(ArchiveItem.objects.filter(volume__batch=archived_batch, retention="Y")[:2])
    with pytest.raises(ApplicationError) as early:
        services_custody.disposition_propose(
            actor=world.frank, unit=world.city, items=permanent, title="销毁", reason="到期"
        )
    assert early.value.code == "not_expired"
    expired = _expire_d10(archived_batch)
    world.frank.roles.create(org_unit=world.city, role="dept_leader")
    frank = type(world.frank).objects.get(pk=world.frank.pk)  # roles are cached per user object
    disposition = services_custody.disposition_propose(
        actor=world.frank, unit=world.city, items=expired, title="销毁", reason="到期"
    )
    with pytest.raises(ApplicationError) as same:
        services_custody.disposition_decide(
            actor=frank, disposition=disposition, approve=True, note="", pin=SIGNING_PIN
        )
    assert same.value.code == "same_person"
