"""Upgrading a release-0.1.0 database keeps its data, and rolling back to 0.1.0 works.

The upgrade runs in a scratch database of its own (a temporary SQLite file, or a throwaway PostgreSQL
database beside ``DATABASE_URL``) rather than in the test database: a ``transaction=True`` test ends with
Django's flush, and on PostgreSQL flush is a TRUNCATE, which the ledger's statement triggers refuse
(migrations ``ledger.0002``/``0004``) — so the scratch database is created, migrated and dropped whole.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.utils import timezone

# Each app's latest migration at release 0.1.0 (commit d6555fd), found with
#   git show d6555fd:jishi/<app>/migrations/
# and taking the highest-numbered file (every app had one leaf). jishi apps not listed here (archives,
# api, ops …) did not exist at 0.1.0 or had no migrations: they start from zero. Django's own apps are at
# their current leaves (requirements.txt pinned the same Django at 0.1.0).
RELEASE_0_1_0 = {
    "accounts": "0002_user_pin_failures_user_signing_locked_signingkey",
    "ledger": "0005_chain_checkpoint_every",
    "procedures": "0001_initial",
    "cadres": "0003_position_key_post",
    "selection": "0002_material_kind",
    "supervision": "0002_warnings_never_deleted",
}
HEAD = "a" * 64


def _release_targets(loader: MigrationLoader) -> list[tuple[str, str | None]]:
    """Migration targets that put a database in the 0.1.0 schema."""
    targets: list[tuple[str, str | None]] = []
    for app, name in sorted(loader.graph.leaf_nodes()):
        if app in RELEASE_0_1_0:
            targets.append((app, RELEASE_0_1_0[app]))
        elif type(loader.disk_migrations[(app, name)]).__module__.startswith("jishi."):
            targets.append((app, None))
        else:
            targets.append((app, name))
    return targets


@contextmanager
def _scratch_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty database under a temporary connection alias, dropped afterwards."""
    alias = "upgrade_scratch"
    base = dict(connections["default"].settings_dict)
    vendor = connections["default"].vendor
    if vendor == "postgresql":
        import psycopg

        name = f"jishi_upgrade_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        name = str(tmp_path / "upgrade.sqlite3")
    connections.settings[alias] = {**base, "NAME": name}
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
        if vendor == "postgresql":
            with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed_release_data(executor: MigrationExecutor, alias: str) -> None:
    """Rows a 0.1.0 installation would hold, written through the 0.1.0 historical models."""
    apps = executor.loader.project_state(list(RELEASE_0_1_0.items())).apps
    unit = apps.get_model("accounts", "OrgUnit").objects.using(alias).create(code="J009", name="资中县委组织部")
    user = apps.get_model("accounts", "User").objects.using(alias).create(username="old_clerk", full_name="周敏")
    chain = apps.get_model("ledger", "Chain").objects.using(alias).create(fonds=unit.code, seq=1, head_hash=HEAD)
    apps.get_model("ledger", "Event").objects.using(alias).create(
        chain=chain,
        seq=1,
        prev_hash="0" * 64,
        hash=HEAD,
        recorded_at=timezone.now(),
        actor_name="系统",
        action="chain.genesis",
        subject_type="chain",
        subject_id=unit.code,
        payload='{"algorithm":"sha256"}',
    )
    apps.get_model("supervision", "WorkdayOverride").objects.using(alias).create(
        day=dt.date(2027, 1, 4), is_working_day=False, note="元旦调休", created_by=user, created_at=timezone.now()
    )


def _assert_release_data_survived(alias: str) -> None:
    from jishi.accounts.models import OrgUnit, User
    from jishi.ledger.models import Chain, Event
    from jishi.supervision.models import WorkdayOverride

    assert OrgUnit.objects.using(alias).get(code="J009").name == "资中县委组织部"
    # only(): after the rollback the table lacks the columns later releases added (e.g. password_changed_at).
    user = (
        User.objects.using(alias)
        .only("username", "full_name", "pin_failures", "signing_locked")
        .get(username="old_clerk")
    )
    assert user.full_name == "周敏"
    assert (user.pin_failures, user.signing_locked) == (0, False)
    chain = Chain.objects.using(alias).get(fonds="J009")
    assert (chain.seq, chain.head_hash) == (1, HEAD)
    event = Event.objects.using(alias).get(chain=chain, seq=1)
    assert (event.hash, event.payload) == (HEAD, '{"algorithm":"sha256"}')
    override = WorkdayOverride.objects.using(alias).get(day=dt.date(2027, 1, 4))
    assert (override.is_working_day, override.created_by_id) == (False, user.pk)


def _tables(alias: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        return set(connections[alias].introspection.table_names(cursor))


def test_a_release_0_1_0_database_upgrades_to_the_latest_schema_keeping_its_rows_and_rolls_back(
    tmp_path: Path, django_db_blocker
):
    with django_db_blocker.unblock(), _scratch_database(tmp_path) as alias:
        connection = connections[alias]
        executor = MigrationExecutor(connection)
        release = _release_targets(executor.loader)
        latest = sorted(executor.loader.graph.leaf_nodes())
        executor.migrate(release)
        assert "archives_volume" not in _tables(alias) and "api_apitoken" not in _tables(alias)
        _seed_release_data(executor, alias)

        executor.loader.build_graph()  # the executor caches what is applied; reload before each migrate
        assert executor.migration_plan(latest), "nothing to upgrade: has RELEASE_0_1_0 been kept up to date?"
        executor.migrate(latest)
        executor.loader.build_graph()
        assert executor.migration_plan(latest) == []
        assert {"archives_volume", "api_apitoken"} <= _tables(alias)
        _assert_release_data_survived(alias)

        # Rollback to 0.1.0 (the documented way back if an upgrade goes wrong) keeps the old rows too.
        executor.migrate(release)
        executor.loader.build_graph()
        assert "archives_volume" not in _tables(alias)
        _assert_release_data_survived(alias)


def _operations(operations: list[Operation]) -> Iterator[Operation]:
    for op in operations:
        yield op
        yield from _operations(getattr(op, "database_operations", []))


def test_every_project_migration_operation_can_be_reversed_so_a_rollback_to_0_1_0_works():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    irreversible = [
        f"{app}.{name}: {type(op).__name__}"
        for (app, name), migration in sorted(loader.disk_migrations.items())
        if type(migration).__module__.startswith("jishi.")
        for op in _operations(migration.operations)
        if not op.reversible
    ]
    assert irreversible == [], "RunPython needs reverse_code and RunSQL reverse_sql"
    assert set(RELEASE_0_1_0) <= {app for app, _ in loader.disk_migrations}
    for app, name in RELEASE_0_1_0.items():
        assert (app, name) in loader.disk_migrations, f"0.1.0 migration {app}.{name} was renamed or removed"
