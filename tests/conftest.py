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
