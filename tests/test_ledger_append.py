from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, connections, transaction

from jishi.ledger.models import Chain, Event
from jishi.ledger.selectors import chain_verify
from jishi.ledger.services import event_append


def _append(n: int, fonds: str = "T001") -> list[Event]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                event_append(
                    fonds=fonds,
                    actor=None,
                    action="test.append",
                    subject_type="thing",
                    subject_id=i,
                    payload={"i": i, "名称": "测试"},
                )
            )
    return events


@pytest.mark.django_db
def test_it_chains_each_event_to_the_previous_one():
    events = _append(3)
    assert [e.seq for e in events] == [2, 3, 4]  # seq 1 is the chain's genesis event
    genesis = Event.objects.get(chain__fonds="T001", seq=1)
    assert genesis.action == "chain.genesis" and '"algorithm":"sha256"' in genesis.payload
    assert events[0].prev_hash == genesis.hash
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    chain = Chain.objects.get(fonds="T001")
    assert chain.seq == 4 and chain.head_hash == events[2].hash
    assert chain_verify(chain) is None


@pytest.mark.django_db
def test_it_keeps_one_chain_per_fonds():
    _append(2, "T001")
    _append(1, "T002")
    assert Chain.objects.get(fonds="T002").seq == 2
    assert Event.objects.get(chain__fonds="T002", seq=1).prev_hash == "0" * 64
    assert Chain.objects.get(fonds="T001").seq == 3


@pytest.mark.django_db
def test_it_refuses_to_append_outside_a_transaction(monkeypatch):
    # pytest-django wraps each test in a transaction, so pretend the connection is in autocommit.
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(RuntimeError):
        event_append(fonds="T001", actor=None, action="x", subject_type="t", subject_id=1, payload={})
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_it_refuses_payloads_that_are_not_plain_json():
    import datetime as dt

    with pytest.raises(TypeError), transaction.atomic():
        event_append(
            fonds="T001", actor=None, action="x", subject_type="t", subject_id=1, payload={"when": dt.date(2026, 1, 1)}
        )
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_update_of_an_event():
    (event,) = _append(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_event SET action = 'forged' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.action == "test.append"


@pytest.mark.django_db
def test_the_database_refuses_delete_of_an_event():
    (event,) = _append(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_event WHERE id = %s", [event.pk])
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_the_orm_cannot_delete_events_either():
    _append(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        Event.objects.all().delete()
    assert Event.objects.count() == 3


@pytest.mark.django_db
def test_the_database_refuses_truncate_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL; SQLite's DELETE trigger is tested above")
    _append(1)
    before = Event.objects.count()  # the genesis event and ours
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE ledger_event CASCADE")
    assert before == 2 and Event.objects.count() == before


@pytest.mark.django_db
def test_verification_names_the_event_whose_content_was_changed_behind_the_triggers():
    _append(4)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # An attacker with superuser rights skips triggers for the session.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("UPDATE ledger_event SET payload = '{\"i\":99}' WHERE seq = 3")
            cursor.execute("SET session_replication_role = DEFAULT")
        else:
            cursor.execute("DROP TRIGGER ledger_event_no_update")
            cursor.execute("UPDATE ledger_event SET payload = '{\"i\":99}' WHERE seq = 3")
    problem = chain_verify(Chain.objects.get(fonds="T001"))
    assert problem is not None and problem.seq == 3 and "哈希不符" in problem.what
