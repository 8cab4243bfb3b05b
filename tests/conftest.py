from __future__ import annotations

import pytest
from django.test import override_settings

from jishi.core.testing import World, build_world
from jishi.selection.models import Batch
from jishi.selection.services import batch_create, nomination_add


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
def _media(settings, tmp_path, _document_cert_dir):
    settings.DOCUMENT_CERT_DIR = _document_cert_dir
    settings.MEDIA_ROOT = tmp_path / "materials"
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SIGNING_SCRYPT_N_LOG2 = 10  # the cheapest cost signing accepts; production uses 2**15
    settings.LEDGER_CHECKPOINT_EVERY = 25  # small chains in tests still get automatic checkpoints
    settings.ARCHIVE_AUTO_BUILD = False  # signed PDFs for every finished walk would slow the suite; tested on its own


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def batch(world: World) -> Batch:
    """A city batch with two positions and three nominations (张伟, 刘洋 → 副主任; 杨帆 → 副局长)."""
    b = batch_create(
        actor=world.alice,
        org_unit=world.city,
        title="2026年第三批市管干部调整",
        positions=world.positions,
        reason="职位空缺",
    )
    for cadre, position in zip(
        world.cadres[:3], [world.positions[0], world.positions[0], world.positions[1]], strict=True
    ):
        nomination_add(actor=world.alice, batch=b, cadre=cadre, position=position)
    return b


@pytest.fixture
def finished_batch(world: World) -> Batch:
    """A finished batch with one person (张伟 → 副主任): the cheapest batch that can be archived."""
    from jishi.core.testing import SIGNING_PIN
    from jishi.selection.walk import walk

    b = batch_create(
        actor=world.alice, org_unit=world.city, title="2026年第四批市管干部调整", positions=world.positions[:1]
    )
    nomination_add(actor=world.alice, batch=b, cadre=world.cadres[0], position=world.positions[0])
    walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN)
    return b


@pytest.fixture
def archived_batch(world: World, finished_batch: Batch) -> Batch:
    """The finished batch built, organized by 档案管理员 frank and accepted by 干部科长 bob."""
    from jishi.archives import services
    from jishi.core.testing import SIGNING_PIN

    for volume in services.volume_build(actor=world.frank, batch=finished_batch):
        volume = services.volume_organize(actor=world.frank, volume=volume, pin=SIGNING_PIN)
        services.volume_accept(actor=world.bob, volume=volume, pin=SIGNING_PIN)
    return finished_batch
