"""The unit tree below a unit: depth first, one query however many units a province has."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from jishi.accounts.services import org_unit_create
from jishi.core.testing import World


def test_units_below_come_depth_first_from_one_query(world: World):
    city, county = world.city, world.county
    town = org_unit_create(actor=None, code="J004", name="中共某镇党委组织办", parent=county)
    other = org_unit_create(actor=None, code="J003", name="中共资中县委组织部", parent=city)
    unrelated = org_unit_create(actor=None, code="J099", name="中共另一市委组织部")

    with CaptureQueriesContext(connection) as queries:
        below = city.descendants_and_self()

    assert len(queries.captured_queries) == 1
    assert [u.code for u in below] == [city.code, county.code, town.code, other.code]
    assert unrelated not in below
    assert [u.code for u in county.descendants_and_self()] == [county.code, town.code]
