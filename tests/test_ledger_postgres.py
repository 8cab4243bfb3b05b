"""PostgreSQL-only protections: the application role cannot change ledger tables, production refuses
to serve as a privileged role, and concurrent appends to one chain neither gap nor duplicate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from jishi.core.testing import World
from jishi.ledger.dbroles import privileged_connection_problem
from tests.pg_scratch import run_in_scratch_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL roles and row locks: run with DATABASE_URL (make test does so when PostgreSQL answers)")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_event SET action = 'forged'",
        "DELETE FROM ledger_event",
        "TRUNCATE ledger_event CASCADE",
        "UPDATE ledger_signature SET signer = 'x'",
        "DELETE FROM ledger_checkpoint",
    ],
)
def test_the_application_role_cannot_change_ledger_tables(world: World, statement: str):
    call_command("ledger", "grant-app-role", "jishi_app_test")
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE jishi_app_test")
        try:
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                cursor.execute(statement)
            with transaction.atomic():  # …while ordinary work still goes through
                cursor.execute("SELECT count(*) FROM ledger_event")
                assert cursor.fetchone()[0] > 0
        finally:
            cursor.execute("RESET ROLE")


@pytest.fixture(autouse=True)
def _app_role(_postgres_only):
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jishi_app_test') "
            "THEN CREATE ROLE jishi_app_test; END IF; END $$"
        )


def test_the_application_role_can_append_through_the_service(world: World):
    from jishi.ledger.services import event_append

    call_command("ledger", "grant-app-role", "jishi_app_test")
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE jishi_app_test")
        try:
            with transaction.atomic():
                event = event_append(
                    fonds="J001", actor=None, action="test.append", subject_type="t", subject_id=1, payload={"ok": True}
                )
            assert event.seq > 1
        finally:
            cursor.execute("RESET ROLE")


def test_production_refuses_a_superuser_connection_but_accepts_the_app_role(world: World):
    assert "超级用户" in (privileged_connection_problem(connection) or "")
    call_command("ledger", "grant-app-role", "jishi_app_test")
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE jishi_app_test")
        try:
            assert privileged_connection_problem(connection) is None
        finally:
            cursor.execute("RESET ROLE")


CONCURRENT = r"""
import json, os, sys, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
call_command("migrate", verbosity=0)
from jishi.ledger.services import event_append, chain_get_or_create
from jishi.ledger.models import Event, Chain
from jishi.ledger.selectors import chain_verify
with transaction.atomic():
    chain_get_or_create(fonds="C001")
errors = []
def writer(n):
    try:
        for i in range(40):
            with transaction.atomic():
                event_append(fonds="C001", actor=None, action="test.concurrent", subject_type="w",
                             subject_id=f"{n}-{i}", payload={"writer": n, "i": i})
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join(timeout=120)
seqs = list(Event.objects.filter(chain__fonds="C001").order_by("seq").values_list("seq", flat=True))
print(json.dumps({"errors": errors, "alive": sum(t.is_alive() for t in threads), "seqs": seqs,
                  "verify": str(chain_verify(Chain.objects.get(fonds="C001"), check_files=False))}))
"""


def test_concurrent_appends_to_one_chain_leave_no_gap_and_no_duplicate(db):
    report = run_in_scratch_db(CONCURRENT, f"jishi_concurrency_{os.getpid()}", {"JISHI_LEDGER_CHECKPOINT_EVERY": "25"})
    assert report["errors"] == [] and report["alive"] == 0
    assert report["seqs"] == list(range(1, 4 * 40 + 2))  # genesis + 160 appends, no gap, no duplicate
    assert report["verify"] == "None"
