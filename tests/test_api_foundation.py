"""The API's foundation: tokens (hashed, scoped, expiring, revocable), the error shape, pagination,
Idempotency-Key, the OpenAPI document and the docs page without a CDN."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import Client

from jishi.api.models import ApiToken, IdempotencyRecord
from jishi.ledger.models import Event
from tests.api_helpers import ApiClient


def test_a_token_is_stored_only_as_a_hash_and_its_creation_is_on_the_ledger(world):
    api = ApiClient(world.alice)
    token = ApiToken.objects.get(user=world.alice)
    assert api.secret not in (token.secret_hash, token.prefix) and len(token.secret_hash) == 64
    assert Event.objects.filter(action="api_token.create", subject_id=str(world.alice.pk)).exists()
    status, body = api.get("/tokens")
    assert status == 200 and body["count"] == 1 and "secret" not in body["items"][0]


def test_missing_wrong_expired_and_revoked_tokens_get_401_in_the_error_shape(world):
    assert Client().get("/api/v1/org-units").json()["error"]["code"] == "unauthenticated"
    wrong = Client(HTTP_AUTHORIZATION="Bearer jsk_deadbeef_nope").get("/api/v1/org-units")
    assert wrong.status_code == 401
    api = ApiClient(world.alice)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        assert api.get("/org-units")[0] == 401
    token = ApiToken.objects.get(user=world.alice)
    other = ApiClient(world.alice)
    status, body = other.post(f"/tokens/{token.pk}/revoke")
    assert status == 200 and body["revoked_at"]
    assert api.get("/org-units")[0] == 401
    assert Event.objects.filter(action="api_token.revoke").count() == 1


def test_a_read_only_token_cannot_change_anything(world):
    reader = ApiClient(world.alice, scopes=("read",))
    assert reader.get("/org-units")[0] == 200
    status, body = reader.post("/tokens", {"name": "x", "scopes": ["read"], "days": 5})
    assert status == 403 and body["error"]["code"] == "scope"
    assert ApiToken.objects.filter(user=world.alice).count() == 1


def test_lists_are_paginated_at_most_100(world):
    api = ApiClient(world.alice)
    status, body = api.get("/org-units", page_size=1)
    assert status == 200 and body["page_size"] == 1 and len(body["items"]) == 1 and body["count"] >= 1
    status, body = api.get("/org-units", page_size=101)
    assert status == 422 and body["error"]["code"] == "validation"


def test_a_retried_create_with_the_same_idempotency_key_creates_once(world):
    api = ApiClient(world.alice)
    body = {"name": "同步脚本", "scopes": ["read"], "days": 10}
    first = api.post("/tokens", body, key="retry-1")
    again = api.post("/tokens", body, key="retry-1")
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    assert ApiToken.objects.filter(name="同步脚本").count() == 1
    status, err = api.post("/tokens", {**body, "days": 11}, key="retry-1")
    assert status == 422 and err["error"]["code"] == "idempotency_key_reused"
    assert IdempotencyRecord.objects.filter(user=world.alice, key="retry-1").count() == 1


def test_the_openapi_document_and_the_docs_page_are_served_without_a_cdn(world):
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.") and "/api/v1/org-units" in schema["paths"]
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "cdn" not in page.lower()


def test_procedures_are_listed_and_shown_with_their_steps(world):
    api = ApiClient(world.carol)
    status, body = api.get("/procedures")
    assert status == 200 and body["items"][0]["code"] == "standard"
    status, detail = api.get(f"/procedures/{body['items'][0]['id']}")
    steps = [s for stage in detail["definition"]["stages"] for s in stage["steps"]]
    assert status == 200 and len(steps) == 44
    assert api.get("/procedures/999999")[0] == 404


def test_an_unknown_path_and_a_method_the_path_does_not_take_answer_in_the_error_shape(world):
    api = ApiClient(world.alice)
    status, body = api.get("/no-such-thing")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api.delete("/org-units")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
