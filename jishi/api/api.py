"""The JSON API (``/api/v1/``): django-ninja over the same services and permission checks as the web pages.

Authentication is a bearer token (``jishi.api.tokens``); OpenAPI at ``/api/v1/openapi.json``, the docs page at
``/api/v1/docs`` (Swagger UI served from django-ninja's bundled static files, no CDN).
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import errors
from .auth import TokenAuth
from .routers import archives, batches, cadres, ledger, reference, steps, supervision, tokens

api = NinjaAPI(
    title="纪实 Jishi API",
    version="1.0",
    description="干部选拔任用全程纪实系统接口。令牌在“接口令牌”页面创建；每个创建型 POST 可带 Idempotency-Key。",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url="/docs",
)
errors.install(api)
api.add_router("/tokens", tokens.router)
api.add_router("", reference.router)
api.add_router("/cadres", cadres.router)
api.add_router("/batches", batches.router)
api.add_router("", steps.router)
api.add_router("", supervision.router)
api.add_router("/ledger", ledger.router)
api.add_router("/archives", archives.router)
