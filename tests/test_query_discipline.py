"""Query discipline (issue #9 item 3): every list page, the dashboard and every API list answers in a number of
queries that does not grow with the data, and reads the large tables through indexes.

One seeded province (``tests/query_seed.py``) grows from a small to a larger size inside one test's transaction;
the city 部领导 carol, who sees her city and its two counties (a tenth of the data), opens each page at both sizes.
The query counts must be equal and within the pinned numbers; then every captured SELECT that touches a large
table is EXPLAINed (PostgreSQL: ``EXPLAIN (FORMAT JSON)``, after ANALYZE; SQLite: ``EXPLAIN QUERY PLAN``) and
must not scan such a table sequentially. ``docs/performance-queries.md`` lists the pages, counts and indexes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jishi.api.models import ApiToken
from jishi.core.testing import World
from jishi.selection.models import Nomination
from jishi.supervision.models import EarlyWarning
from tests.api_helpers import ApiClient
from tests.query_seed import LARGE, LARGE_TABLES, SMALL, Seeder, province_units


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    limit: int  # the pinned query count (the page's own reads plus session, audit and auth queries)
    api: bool = False
    # Proof pages read the chain's kept subtree roots (jishi.ledger.proofs): the first view after the chain grew
    # fills those not kept yet, one range read each — O(log n) reads, not a count fixed for every size.
    same_at_every_size: bool = True


def targets(world: World) -> list[Target]:
    nomination = Nomination.objects.filter(batch__org_unit=world.city).order_by("pk").first()
    warning = EarlyWarning.objects.filter(org_unit=world.city).order_by("pk").first()
    assert nomination is not None and warning is not None
    return [
        Target("待办 home", "/", 14),
        Target("调整批次 batch list", "/batches/", 13),
        Target("干部 cadre list", "/cadres/", 11),
        Target("台账 register", "/documents/register/", 14),
        Target("档案 archive list", "/archives/", 20),
        Target("预警 warning list", "/supervision/warnings/", 24),
        Target("监督看板 dashboard", "/supervision/", 42),
        Target("重要岗位 key posts", "/supervision/key-posts/", 9),
        Target("倒查 trace nomination", f"/supervision/trace/nominations/{nomination.pk}/", 21),
        Target("倒查 trace user", f"/supervision/trace/users/{world.alice.pk}/", 26),
        Target("倒查 trace warning", f"/supervision/trace/warnings/{warning.pk}/", 19),
        Target("通知 inbox", "/supervision/inbox/", 7),
        Target("台账核验 ledger", "/ledger/", 24, same_at_every_size=False),
        Target("接口令牌 tokens page", "/account/tokens/", 6),
        Target("API batches", "/batches", 10, api=True),
        Target("API batches unfinished", "/batches?finished=false", 10, api=True),
        Target("API cadres", "/cadres", 5, api=True),
        Target("API warnings", "/warnings", 11, api=True),
        Target("API archive volumes", "/archives/volumes", 9, api=True),
        Target("API ledger events", f"/ledger/events?subject_type=nomination&subject_id={nomination.pk}", 7, api=True),
        Target("API ledger checkpoints", "/ledger/checkpoints", 6, api=True),
        Target("API tokens", "/tokens", 3, api=True),
        Target("API org units", "/org-units", 5, api=True),
    ]


class Opener:
    """Opens a target as carol (web session or bearer token) and returns the status and the captured SQL."""

    def __init__(self, world: World) -> None:
        self.web = Client()
        self.web.force_login(world.carol)
        self.api = ApiClient(world.carol, scopes=("read",))
        # A token's last use is written at most once a minute; a last use "tomorrow" keeps that write out.
        ApiToken.objects.filter(user=world.carol).update(last_used_at=timezone.now() + dt.timedelta(days=1))

    def open(self, target: Target) -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as captured:
            response = self.api.client.get(f"/api/v1{target.path}") if target.api else self.web.get(target.path)
        return response.status_code, [q["sql"] for q in captured.captured_queries]


# EXPLAIN ---------------------------------------------------------------------------------------------------

_TABLE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)
_ALIAS = re.compile(r'"(\w+)" (?:AS )?([A-Z]\d+)\b')


def _touches_large(sql: str) -> bool:
    return bool(set(_TABLE.findall(sql)) & LARGE_TABLES)


def _pg_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _pg_nodes(child)


def _pg_seq_scans(cursor: Any, sql: str) -> set[str]:
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
    raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return {n["Relation Name"] for n in _pg_nodes(plan) if n["Node Type"] == "Seq Scan"} & LARGE_TABLES


def _sequential_scans(sql: str, notes: list[str]) -> list[str]:
    """Large tables this SELECT reads sequentially (empty: every large table is reached through an index).

    PostgreSQL plans with its normal settings first. A few thousand rows are still few pages, and for a hash
    join the planner may rightly read such a table whole where at a province's size it would not; so a
    sequential scan is asked again with ``enable_seqscan`` off: if an index can serve the access the planner
    then takes it and the choice is noted (printed), and only a scan no index can replace is a failure.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            scanned = _pg_seq_scans(cursor, sql)
            if not scanned:
                return []
            cursor.execute("SET enable_seqscan = off")
            try:
                forced = _pg_seq_scans(cursor, sql)
            finally:
                cursor.execute("RESET enable_seqscan")
            if scanned - forced:
                notes.append(f"planner's choice at this size, index available: {sorted(scanned - forced)}")
            return sorted(forced)
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        aliases = dict((alias, table) for table, alias in _ALIAS.findall(sql))  # Django's T8, U0 …
        found = set()
        for row in cursor.fetchall():
            # "SCAN t" reads the table; "SCAN t USING [COVERING] INDEX i" and "SEARCH t ..." use an index.
            match = re.fullmatch(r"SCAN (\w+)", row[3])
            table = aliases.get(match.group(1), match.group(1)) if match else ""
            if table in LARGE_TABLES:
                found.add(table)
        return sorted(found)


def _selects(queries: list[str]) -> list[str]:
    return [q for q in queries if q.lstrip().upper().startswith(("SELECT", "WITH")) and _touches_large(q)]


# The test --------------------------------------------------------------------------------------------------


def _measure(opener: Opener, all_targets: list[Target]) -> dict[str, tuple[int, list[str]]]:
    return {t.name: opener.open(t) for t in all_targets}


def test_list_pages_and_api_lists_keep_their_query_counts_and_read_large_tables_through_indexes(
    world: World, monkeypatch: Any
) -> None:
    # The session's last-activity time is written every 30 s: a request that happens to cross that line would
    # count two more queries than its neighbours. Writing it never keeps the counts exact.
    monkeypatch.setattr("jishi.accounts.middleware.TOUCH_EVERY", 10**9)
    seeder = Seeder(world, province_units(world))
    seeder.grow(SMALL)
    opener = Opener(world)
    all_targets = targets(world)
    _measure(opener, all_targets)  # warm caches (procedure definitions, content types, the session)
    small = _measure(opener, all_targets)
    seeder.grow(LARGE)
    large = _measure(opener, all_targets)

    problems: list[str] = []
    report: list[str] = []
    notes: list[str] = []
    for target in all_targets:
        status_small, queries_small = small[target.name]
        status_large, queries_large = large[target.name]
        report.append(f"{target.name}: {len(queries_small)} → {len(queries_large)} queries")
        if status_small != 200 or status_large != 200:
            problems.append(f"{target.name}: HTTP {status_small}/{status_large}")
        if target.same_at_every_size and len(queries_small) != len(queries_large):
            problems.append(f"{target.name}: {len(queries_small)} queries small, {len(queries_large)} large")
        if len(queries_large) > target.limit:
            problems.append(f"{target.name}: {len(queries_large)} queries > pinned {target.limit}")
        for sql in _selects(queries_large):
            choices: list[str] = []
            scanned = _sequential_scans(sql, choices)
            notes.extend(f"{target.name}: {c}" for c in choices)
            if scanned:
                problems.append(f"{target.name}: sequential scan of {', '.join(scanned)} in\n    {sql[:600]}")
        if os.environ.get("QUERY_DISCIPLINE_SHOW") == target.name:  # debugging: the queries of one target
            print("\n".join(q[:300] for q in ["-- small", *queries_small, "-- large", *queries_large]))
    print("\n".join([*report, *sorted(set(notes))]))
    assert not problems, "\n".join(problems)


def test_the_plan_check_sees_a_large_table_read_without_an_index(world: World) -> None:
    """The check above is alive: a filter on a column with no index is reported on either database."""
    sql = 'SELECT "id" FROM "selection_steprecord" WHERE "waiver_reason" = \'x\''
    assert _sequential_scans(sql, []) == ["selection_steprecord"]
    assert _sequential_scans('SELECT "id" FROM "selection_steprecord" WHERE "batch_id" = 1', []) == []
