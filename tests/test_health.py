"""/healthz: no login, JSON, 200 when healthy and 503 otherwise (never a 500), never cached, and nothing in
the answer that an unauthenticated caller should not see."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import OperationalError
from django.test import Client

from jishi.core.testing import World
from jishi.ledger.models import Chain
from jishi.ops import health


def _get(client: Client | None = None):
    response = (client or Client()).get("/healthz")
    return response, json.loads(response.content)


def test_a_healthy_server_answers_200_with_every_check_ok_to_an_anonymous_caller(world: World):
    response, body = _get()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["ledger"] == {"ok": True, "chains": Chain.objects.count(), "inconsistent": 0}
    assert body["checks"]["disk"]["ok"] is True
    assert set(body["checks"]["disk"]["free_mb"]) == {"var", "materials"}


def test_healthz_is_not_sent_to_the_login_page_while_other_pages_are(world: World):
    client = Client()
    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200


def test_the_answer_names_no_fonds_path_hash_or_secret(world: World, settings):
    response, _ = _get()
    text = response.content.decode()
    chain = Chain.objects.get(fonds="J001")
    for private in ("J001", "J002", chain.head_hash, str(settings.VAR_DIR), str(settings.MEDIA_ROOT)):
        assert private not in text
    assert settings.SECRET_KEY not in text and settings.FIELD_ENCRYPTION_KEY not in text


def test_a_chain_whose_head_does_not_match_its_last_event_answers_503_and_logs_the_fonds(world: World, caplog):
    Chain.objects.filter(fonds="J002").update(head_hash="f" * 64)
    with caplog.at_level(logging.ERROR, logger="jishi.ops.health"):
        response, body = _get()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["ledger"] == {"ok": False, "chains": Chain.objects.count(), "inconsistent": 1}
    assert body["checks"]["database"]["ok"] is True
    assert "J002" in caplog.text and "J001" not in caplog.text


def test_a_chain_seq_ahead_of_its_events_is_inconsistent_too(world: World):
    chain = Chain.objects.get(fonds="J001")
    Chain.objects.filter(pk=chain.pk).update(seq=chain.seq + 1)
    response, body = _get()
    assert response.status_code == 503
    assert body["checks"]["ledger"]["inconsistent"] == 1


def test_free_space_below_the_threshold_answers_503_naming_only_the_labels(world: World, monkeypatch):
    monkeypatch.setenv("JISHI_HEALTH_MIN_FREE_MB", str(10**12))  # more than any disk has
    response, body = _get()
    assert response.status_code == 503
    disk = body["checks"]["disk"]
    assert disk["ok"] is False and disk["min_free_mb"] == 10**12
    assert body["checks"]["ledger"]["ok"] is True


def test_a_malformed_threshold_falls_back_to_the_default_and_says_so(monkeypatch, caplog):
    monkeypatch.setenv("JISHI_HEALTH_MIN_FREE_MB", "1G")
    with caplog.at_level(logging.ERROR, logger="jishi.ops.health"):
        assert health.min_free_mb() == health.DEFAULT_MIN_FREE_MB
    assert "JISHI_HEALTH_MIN_FREE_MB" in caplog.text


def test_s3_material_storage_leaves_only_var_to_watch(settings):
    settings.MATERIAL_STORAGE = "s3"
    assert set(health.watched_paths()) == {"var"}


class _BrokenConnection:
    def cursor(self):
        raise OperationalError(
            'connection to server at "10.0.0.5" failed: password authentication failed for jishi_app'
        )


def test_an_unreachable_database_answers_503_with_the_error_type_only_never_a_500(world: World, monkeypatch):
    monkeypatch.setattr(health, "connection", _BrokenConnection())
    response, body = _get()
    assert response.status_code == 503
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "jishi_app" not in response.content.decode() and "10.0.0.5" not in response.content.decode()
    assert body["checks"]["disk"]["ok"] is True  # the other checks still ran


@pytest.mark.django_db
def test_a_new_installation_with_no_chains_is_healthy():
    response, body = _get()
    assert response.status_code == 200
    assert body["checks"]["ledger"] == {"ok": True, "chains": 0, "inconsistent": 0}


def test_healthz_refuses_a_post(world: World):
    assert Client().post("/healthz").status_code == 405


def test_the_benchmark_baseline_view_is_not_served_unless_the_benchmark_turns_it_on(client, monkeypatch):
    monkeypatch.delenv("JISHI_BENCH_VIEWS", raising=False)
    assert client.get("/bench/trivial").status_code == 404
    monkeypatch.setenv("JISHI_BENCH_VIEWS", "true")
    assert client.get("/bench/trivial").status_code == 200
