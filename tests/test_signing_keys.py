from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from jishi.accounts import keys
from jishi.accounts.models import KeyStatus
from jishi.core.exceptions import ApplicationError, PermissionDenied
from jishi.core.testing import SIGNING_PIN, World
from jishi.ledger.models import Chain, Event, Signature
from jishi.ledger.selectors import chain_rows, chain_verify, key_rows, registry
from jishi.ledger.verify import collect_keys
from jishi.selection import services
from jishi.selection.models import Batch


def _record(world: World, batch: Batch):
    return services.step_start(actor=world.alice, batch=batch, step_id="D01")


def test_enrolment_is_an_event_signed_by_the_unit_key(world: World):
    key = keys.active_key(world.alice)
    assert key is not None and key.status == KeyStatus.ACTIVE
    event = Event.objects.get(action="signing_key.enrol", payload__contains=key.key_id)
    assert key.public_key in event.payload and SIGNING_PIN not in event.payload
    assert Signature.objects.filter(event=event, signer="system").exists()
    assert SIGNING_PIN not in key.sealed_private_key


def test_a_weak_pin_is_refused(world: World):
    keys.signing_key_revoke(actor=world.sue, user=world.alice, reason="测试")
    with pytest.raises(ApplicationError, match="签名口令须为6至12位"):
        keys.signing_key_enrol(user=world.alice, pin="123456")
    assert keys.active_key(world.alice) is None


def test_confirming_signs_the_event_hash_with_the_personal_key(world: World, batch: Batch):
    record = _record(world, batch)
    confirmation = services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    event = Event.objects.get(hash=confirmation.event_hash)
    signature = Signature.objects.get(event=event)
    assert signature.signer == "alice" and signature.key_id == keys.active_key(world.alice).key_id
    assert chain_verify(Chain.objects.get(fonds="J001")) is None


def test_a_wrong_pin_is_refused_counted_and_leaves_no_confirmation(world: World, batch: Batch):
    record = _record(world, batch)
    with pytest.raises(ApplicationError, match="还可尝试 4 次"):
        services.step_confirm(actor=world.alice, record=record, role="clerk", pin="000001")
    assert not record.confirmations.exists()
    world.alice.refresh_from_db()
    assert world.alice.pin_failures == 1
    assert Event.objects.filter(action="signing.pin_failed").count() == 1


def test_five_wrong_pins_lock_signing_until_an_administrator_unlocks(world: World, batch: Batch):
    record = _record(world, batch)
    for _ in range(5):
        with pytest.raises(ApplicationError):
            services.step_confirm(actor=world.alice, record=record, role="clerk", pin="000001")
    world.alice.refresh_from_db()
    assert world.alice.signing_locked
    assert Event.objects.filter(action="signing.locked").count() == 1
    with pytest.raises(ApplicationError, match="已锁定"):
        services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    for not_security_admin in (world.bob, world.sam):
        with pytest.raises(PermissionDenied):
            keys.signing_unlock(actor=not_security_admin, user=world.alice)
    keys.signing_unlock(actor=world.sue, user=world.alice)
    assert Event.objects.filter(action="signing.unlock").count() == 1
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    world.alice.refresh_from_db()
    assert world.alice.pin_failures == 0 and not world.alice.signing_locked


def test_changing_the_pin_re_encrypts_the_same_key(world: World, batch: Batch):
    before = keys.active_key(world.alice)
    keys.signing_pin_change(user=world.alice, old_pin=SIGNING_PIN, new_pin="583920")
    after = keys.active_key(world.alice)
    assert after.key_id == before.key_id and after.sealed_private_key != before.sealed_private_key
    record = _record(world, batch)
    with pytest.raises(ApplicationError, match="签名口令错误"):
        services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin="583920")


def test_after_rotation_old_signatures_still_verify_and_new_ones_use_the_new_key(world: World, batch: Batch):
    record = _record(world, batch)
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    old = keys.active_key(world.alice)
    new = keys.signing_key_rotate(user=world.alice, pin=SIGNING_PIN)
    old.refresh_from_db()
    assert old.status == KeyStatus.RETIRED and new.key_id != old.key_id
    services.step_confirm(actor=world.bob, record=record, role="section_head", pin=SIGNING_PIN)
    assert registry().keys[("J001", old.key_id)].valid_until is not None
    assert chain_verify(Chain.objects.get(fonds="J001")) is None


def test_an_administrator_revokes_a_key_and_the_user_can_no_longer_sign(world: World, batch: Batch):
    with pytest.raises(ApplicationError, match="吊销原因"):
        keys.signing_key_revoke(actor=world.sue, user=world.alice, reason="")
    keys.signing_key_revoke(actor=world.sue, user=world.alice, reason="调离岗位")
    record = _record(world, batch)
    with pytest.raises(ApplicationError, match="尚未启用签名密钥"):
        services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    assert Event.objects.filter(action="signing_key.revoke").count() == 1
    assert chain_verify(Chain.objects.get(fonds="J001")) is None


def test_the_signing_page_enrols_and_refuses_mismatched_pins(world: World):
    keys.signing_key_revoke(actor=world.sue, user=world.alice, reason="重新启用")
    client = Client()
    client.force_login(world.alice)
    response = client.post(reverse("signing_action", args=["enrol"]), {"new_pin": "583920", "new_pin2": "583921"})
    assert response.status_code == 400 and "不一致" in response.content.decode()
    assert keys.active_key(world.alice) is None
    response = client.post(reverse("signing_action", args=["enrol"]), {"new_pin": "583920", "new_pin2": "583920"})
    assert response.status_code == 302 and keys.active_key(world.alice) is not None
    page = client.get(reverse("signing")).content.decode()
    assert keys.active_key(world.alice).key_id in page and "启用签名密钥" in page


def test_the_admin_page_is_only_for_security_administrators(world: World):
    client = Client()
    for someone in (world.alice, world.sam):  # 三权分立: key management is security administration
        client.force_login(someone)
        assert client.get(reverse("signing_admin")).status_code == 403
    client.force_login(world.sue)
    body = client.get(reverse("signing_admin")).content.decode()
    assert "alice" in body and "grace" in body  # the county is below the city


def test_the_key_pass_reads_only_key_events_and_learns_what_reading_every_event_learns(world: World, batch: Batch):
    record = _record(world, batch)
    services.step_confirm(actor=world.alice, record=record, role="clerk", pin=SIGNING_PIN)
    keys.signing_key_rotate(user=world.alice, pin=SIGNING_PIN)
    keys.signing_key_revoke(actor=world.sue, user=world.bob, reason="调离岗位")
    chains = list(Chain.objects.order_by("fonds"))

    learned = registry()

    everything = collect_keys(chain_rows(chain) for chain in chains)
    assert learned.keys == everything.keys and learned.system == everything.system
    assert learned.algorithms == everything.algorithms and learned.checkpoint_every == everything.checkpoint_every
    read = [row for chain in chains for row in key_rows(chain)]
    assert {row.action for row in read} == {
        "chain.genesis",
        "signing_key.enrol",
        "signing_key.rotate",
        "signing_key.revoke",
    }
    assert len(read) < Event.objects.count() and any(k.valid_until for k in learned.keys.values())
