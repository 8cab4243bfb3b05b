"""The 接口令牌 page: create (the secret shown once, only its hash kept), use, revoke."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.test import Client

from jishi.api.models import ApiToken
from jishi.core.testing import PASSWORD
from jishi.ledger.models import Event


def test_alice_creates_a_token_on_the_page_uses_it_and_revokes_it(world):
    client = Client()
    assert client.login(request=HttpRequest(), username="alice", password=PASSWORD)
    page = client.post("/account/tokens/", {"name": "干部信息库同步", "scopes": ["read"], "days": 30})
    assert page.status_code == 201 and page["Cache-Control"] == "no-store"
    secret = re.search(r'id="token-secret">(jsk_[^<]+)<', page.content.decode()).group(1)
    token = ApiToken.objects.get(user=world.alice)
    assert token.secret_hash != secret and token.scopes == ["read"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/org-units").status_code == 200
    assert secret not in client.get("/account/tokens/").content.decode()  # shown once only
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/org-units").status_code == 401
    assert [e.action for e in Event.objects.filter(action__startswith="api_token.").order_by("seq")] == [
        "api_token.create",
        "api_token.revoke",
    ]


def test_a_bad_form_keeps_the_input_and_another_users_token_cannot_be_revoked(world):
    client = Client()
    client.login(request=HttpRequest(), username="alice", password=PASSWORD)
    page = client.post("/account/tokens/", {"name": "脚本", "scopes": ["root"], "days": 30})
    assert page.status_code == 400 and 'value="脚本"' in page.content.decode()
    assert not ApiToken.objects.exists()
    other = Client()
    other.login(request=HttpRequest(), username="bob", password=PASSWORD)
    other.post("/account/tokens/", {"name": "bob 的脚本", "scopes": ["read"], "days": 5})
    bobs = ApiToken.objects.get(user=world.bob)
    assert client.post(f"/account/tokens/{bobs.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=bobs.pk).revoked_at is None
