from __future__ import annotations

from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, models
from django.test import override_settings

from jishi.accounts.models import OrgUnit, User
from jishi.cadres.models import Cadre, Position
from jishi.core.testing import World, build_world
from jishi.selection.models import Batch
from jishi.selection.services import batch_create, nomination_add
from tests.batches import make_batch, walked_once
from tests.replay import all_models


@pytest.fixture(scope="session")
def _document_cert_dir(tmp_path_factory):
    """Self-signed unit document certificates, made once: RSA key generation is slow."""
    from jishi.documents.pades import certificate_create

    directory = tmp_path_factory.mktemp("certs")
    with override_settings(DOCUMENT_CERT_DIR=directory):
        certificate_create(fonds="J001", unit_name="内江市委组织部")
        certificate_create(fonds="J002", unit_name="威远县委组织部")
    return directory


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """A request outside Django's test client (schemathesis calling the WSGI app) fires request_started and
    request_finished; on PostgreSQL their handler would close the connection holding the test's transaction.
    The test client disconnects it the same way while it runs a request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, _document_cert_dir):
    settings.DOCUMENT_CERT_DIR = _document_cert_dir
    settings.MEDIA_ROOT = tmp_path / "materials"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SIGNING_SCRYPT_N_LOG2 = 10  # the cheapest cost signing accepts; production uses 2**15
    settings.LEDGER_CHECKPOINT_EVERY = 25  # small chains in tests still get automatic checkpoints
    settings.ARCHIVE_AUTO_BUILD = False  # signed PDFs for every finished walk would slow the suite; tested on its own


@pytest.fixture(autouse=True)
def _second_factor(monkeypatch, settings):
    """等保 enforcement stays on in tests; a test client signed in with force_login()/login() has also passed
    the TOTP step (with a device made for the user), as a person would have before using the pages. Tests of
    the second factor itself sign in through the login page, which does not pass this way.

    Tests travel in time by days or years with a signed-in client; the idle/absolute session limits and the
    password expiry are therefore relaxed here, and the tests of those limits (tests/test_auth_*.py) set them back."""
    from django.test.client import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.SESSION_IDLE_MINUTES = 10 * 365 * 24 * 60
    settings.SESSION_MAX_HOURS = 10 * 365 * 24
    settings.PASSWORD_MAX_AGE_DAYS = 0
    original = Client._login

    def _login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="测试", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "_login", _login)


# The world costs ~0.4 s of service calls (chains, keys, signatures) and a thousand tests ask for it. The
# first test of a process builds it through the services; its rows are kept and later tests bulk-insert the
# very same rows (same pks, hashes, signatures) inside their own rolled-back transaction.
_WORLD_ROWS: list[tuple[type[models.Model], list[dict[str, Any]]]] = []
_WORLD_IDS: dict[str, Any] = {}


def _world_keep(before: dict[type[models.Model], set[Any]], built: World) -> None:
    for model in all_models():
        new = [row for row in model._base_manager.values() if row[model._meta.pk.attname] not in before[model]]
        if new:
            _WORLD_ROWS.append((model, new))
    _WORLD_IDS.update(
        city=built.city.pk,
        county=built.county.pk,
        users={name: user.pk for name, user in built.users.items()},
        positions=[p.pk for p in built.positions],
        cadres=[c.pk for c in built.cadres],
        county_position=built.county_position.pk,
        county_cadre=built.county_cadre.pk,
    )


def _world_replay() -> World:
    for model, rows in _WORLD_ROWS:
        model._base_manager.bulk_create([model(**row) for row in rows])
    ids = _WORLD_IDS
    users = User.objects.in_bulk(list(ids["users"].values()))
    positions = Position.objects.in_bulk([*ids["positions"], ids["county_position"]])
    cadres = Cadre.objects.in_bulk([*ids["cadres"], ids["county_cadre"]])
    return World(
        city=OrgUnit.objects.get(pk=ids["city"]),
        county=OrgUnit.objects.get(pk=ids["county"]),
        users={name: users[pk] for name, pk in ids["users"].items()},
        positions=[positions[pk] for pk in ids["positions"]],
        cadres=[cadres[pk] for pk in ids["cadres"]],
        county_position=positions[ids["county_position"]],
        county_cadre=cadres[ids["county_cadre"]],
    )


@pytest.fixture
def world(db) -> World:
    if _WORLD_IDS:
        return _world_replay()
    before = {model: set(model._base_manager.values_list("pk", flat=True)) for model in all_models()}
    built = build_world()
    _world_keep(before, built)
    return built


@pytest.fixture
def batch(world: World) -> Batch:
    """A city batch with two positions and three nominations (张伟, 刘洋 → 副主任; 杨帆 → 副局长)."""
    return make_batch(world)


@pytest.fixture
def finished_batch(world: World) -> Batch:
    """A finished batch with one person (张伟 → 副主任): the cheapest batch that can be archived."""
    from jishi.core.testing import SIGNING_PIN
    from jishi.selection.walk import walk

    def build() -> Batch:
        b = batch_create(
            actor=world.alice, org_unit=world.city, title="2026年第四批市管干部调整", positions=world.positions[:1]
        )
        nomination_add(actor=world.alice, batch=b, cadre=world.cadres[0], position=world.positions[0])
        walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
        return b

    return walked_once("finished", build)


@pytest.fixture
def archived_batch(world: World, finished_batch: Batch) -> Batch:
    """The finished batch built, organized by 档案管理员 frank and accepted by 干部科长 bob."""
    from jishi.archives import services
    from jishi.core.testing import SIGNING_PIN

    for volume in services.volume_build(actor=world.frank, batch=finished_batch):
        volume = services.volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN)
        services.volume_accept(actor=world.bob, volume=volume, pin=SIGNING_PIN)
    return finished_batch
