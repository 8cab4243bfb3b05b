"""PostgreSQL: 件号 stay gap-free and unique when several checkers accept volumes at the same moment."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from tests.pg_scratch import run_in_scratch_db

CONCURRENT = r"""
import datetime as dt, json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
call_command("migrate", verbosity=0)
from jishi.archives import services
from jishi.archives.models import ArchiveItem, Volume, VolumeStatus
from jishi.core.testing import SIGNING_PIN, build_world
from jishi.selection.services import batch_create, nomination_add

world = build_world()
volumes = []
for b in range(2):
    batch = batch_create(actor=world.alice, org_unit=world.city, title=f"并发批次{b}", positions=world.positions)
    for cadre in world.cadres[:3]:
        nomination = nomination_add(actor=world.alice, batch=batch, cadre=cadre, position=world.positions[0])
        volume = Volume.objects.create(
            org_unit=world.city, batch=batch, nomination=nomination, kind="personal", code=f"GR-{nomination.number}",
            title="并发", year=2026, org_code="GB", status=VolumeStatus.ORGANIZED, built_by=world.frank,
            built_at=timezone.now(), organized_by=world.frank, organized_at=timezone.now(),
        )
        ArchiveItem.objects.bulk_create(
            ArchiveItem(volume=volume, position=i, item_type="material", title=f"材料{i}", responsible="组织部",
                        date=dt.date(2026, 3, 1), retention="Y" if i % 3 else "D30", carrier="paper",
                        source_type="material", source_id=i, fonds="J001", year=2026, org_code="GB")
            for i in range(1, 13)
        )
        volumes.append(volume)
services.volume_gaps = lambda volume: []  # the subject here is numbering, not the acceptance check
errors = []
def checker(mine):
    try:
        for volume in mine:
            services.volume_accept(actor=world.bob, volume=volume, pin=SIGNING_PIN)
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=checker, args=(volumes[n::3],)) for n in range(3)]
for t in threads: t.start()
for t in threads: t.join(timeout=120)
numbers = {r: sorted(ArchiveItem.objects.filter(retention=r).values_list("number", flat=True)) for r in ("Y", "D30")}
per_volume = []
for volume in Volume.objects.all():
    for r in ("Y", "D30"):
        own = sorted(volume.items.filter(retention=r).values_list("number", flat=True))
        per_volume.append(own == list(range(own[0], own[0] + len(own))))
print(json.dumps({"errors": errors, "alive": sum(t.is_alive() for t in threads), "numbers": numbers,
                  "contiguous": all(per_volume), "archived": Volume.objects.filter(status="archived").count()}))
"""


def test_concurrent_acceptances_take_gap_free_unique_numbers(db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: run with DATABASE_URL (make test does so)")
    report = run_in_scratch_db(
        CONCURRENT, f"jishi_archive_concurrency_{os.getpid()}", {"JISHI_SIGNING_SCRYPT_N_LOG2": "10"}
    )
    assert report["errors"] == [] and report["alive"] == 0 and report["archived"] == 6
    assert report["numbers"]["Y"] == list(range(1, 6 * 8 + 1))  # 8 of 12 items per volume are 永久
    assert report["numbers"]["D30"] == list(range(1, 6 * 4 + 1))
    assert report["contiguous"] is True
