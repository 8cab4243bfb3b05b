"""API: the caller's own tokens (list, create, revoke). Creating one needs a token already — or the web page."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from jishi.api import tokens as token_services
from jishi.api.auth import actor
from jishi.api.models import ApiToken
from jishi.api.pagination import Paged
from jishi.api.schemas import ERRORS

router = Router(tags=["tokens 接口令牌"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, description="用途，如“干部信息库同步”")
    scopes: list[str] = Field(..., min_length=1, max_length=3, description="read / write / sign")
    days: int = Field(90, ge=1, le=365)


class TokenCreated(TokenOut):
    secret: str = Field(..., description="完整令牌，只显示这一次")


@router.get("", response={200: list[TokenOut], **ERRORS}, summary="我的接口令牌")
@paginate(Paged)
def token_list(request: HttpRequest) -> object:
    return ApiToken.objects.filter(user=actor(request)).order_by("-created_at")


@router.post("", response={201: TokenCreated, **ERRORS}, summary="创建接口令牌（密钥只返回一次）")
def token_create(request: HttpRequest, body: TokenIn) -> Status:
    token, secret = token_services.token_create(
        actor=actor(request),
        name=body.name,
        scopes=body.scopes,
        days=body.days,
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "secret": secret})


@router.post("/{token_id}/revoke", response={200: TokenOut, **ERRORS}, summary="吊销接口令牌")
def token_revoke(request: HttpRequest, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor(request)).first()
    if token is None:
        raise Http404
    return token_services.token_revoke(actor=actor(request), token=token)
