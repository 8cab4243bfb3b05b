"""API: the ledger (纪实台账) — events of a subject the caller may see, inclusion proofs, checkpoints and
chain verification for the units the caller may verify (like the 台账核验 page)."""

# No ``from __future__ import annotations``: @paginate re-reads the annotations outside this module.
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, overload

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema, Status
from ninja.pagination import paginate

from jishi.accounts import permissions as perms
from jishi.accounts.models import OrgUnit, User
from jishi.api.auth import actor
from jishi.api.pagination import Paged
from jishi.api.schemas import ERRORS
from jishi.core.exceptions import ApplicationError
from jishi.ledger import selectors, services
from jishi.ledger.models import Chain, Checkpoint, Event, Signature
from jishi.selection.models import Material
from jishi.supervision import dashboard

router = Router(tags=["ledger 纪实台账"])

FondsPath = PathEx[str, P(max_length=20, description="全宗号")]
SeqPath = PathEx[int, P(ge=1, description="事件序号")]

VERIFY_REFUSED = "只有干部监督、纪检监察、部领导和档案管理员可以核验台账。"


# Schemas -----------------------------------------------------------------------------------------------


class SignatureOut(Schema):
    signer: str
    role: str
    key_id: str
    signature: str
    created_at: dt.datetime


class EventOut(Schema):
    fonds: str
    seq: int
    hash: str
    prev_hash: str
    recorded_at: dt.datetime
    actor: str = Field(..., description="操作人（姓名(用户名)），系统事件为“系统”")
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    withheld: list[str] = Field(
        ..., description="读者无权查看而隐去的载荷字段（如 data.opinion、lines）；此时载荷不能据以重算摘要"
    )
    signatures: list[SignatureOut]


class CheckpointOut(Schema):
    fonds: str
    algorithm: str
    tree_size: int
    root: str
    timestamp: str
    key_id: str
    signature: str


class WitnessOut(CheckpointOut):
    witness: str = Field(..., description="交外部保存的检查点见证文本")


class ProofOut(Schema):
    event: EventOut
    checkpoint: CheckpointOut | None = Field(..., description="最新检查点；事件晚于它时为空")
    leaf_index: int
    proof: list[str] = Field(..., description="RFC 9162 包含证明（十六进制哈希，自下而上）")
    included: bool | None = Field(..., description="证明是否核验通过；没有覆盖该事件的检查点时为空")


class BreakOut(Schema):
    fonds: str
    seq: int
    what: str


class VerifyOut(Schema):
    fonds: str
    ok: bool
    events: int
    problem: BreakOut | None


class EventsIn(Schema):
    subject_type: str = Field(..., min_length=1, max_length=40, description="batch / nomination / steprecord …")
    subject_id: int = Field(..., ge=1)


class FondsIn(Schema):
    fonds: str = Field(..., min_length=1, max_length=20, description="全宗号，如 J001")


class FondsFilter(Schema):
    fonds: str | None = Field(None, min_length=1, max_length=20, description="全宗号；不填为可核验的全部全宗")


# Serializers -------------------------------------------------------------------------------------------


class Mapped(Sequence[dict[str, Any]]):
    """A queryset seen through a serializer, for ``@paginate``: counted in SQL, only one page serialized."""

    def __init__(self, queryset: QuerySet[Any], serialize: Callable[[Any], dict[str, Any]]) -> None:
        self.queryset, self.serialize = queryset, serialize

    def __len__(self) -> int:
        return self.queryset.count()

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self.serialize(row) for row in self.queryset[index]]
        return self.serialize(self.queryset[index])


def signature_out(s: Signature) -> dict[str, Any]:
    return {
        "signer": s.signer,
        "role": s.role,
        "key_id": s.key_id,
        "signature": s.signature,
        "created_at": s.created_at,
    }


def event_out(e: Event, viewer: User) -> dict[str, Any]:
    unit = OrgUnit.objects.filter(code=e.chain.fonds).values_list("pk", flat=True).first()
    payload, withheld = perms.redact_event_payload(viewer, unit or 0, json.loads(e.payload))
    return {
        "fonds": e.chain.fonds,
        "seq": e.seq,
        "hash": e.hash,
        "prev_hash": e.prev_hash,
        "recorded_at": e.recorded_at,
        "actor": e.actor_name,
        "action": e.action,
        "subject_type": e.subject_type,
        "subject_id": e.subject_id,
        "payload": payload,
        "withheld": withheld,
        "signatures": [signature_out(s) for s in e.signatures.all()],
    }


def checkpoint_out(c: Checkpoint) -> dict[str, Any]:
    return {
        "fonds": c.chain.fonds,
        "algorithm": c.chain.algorithm,
        "tree_size": c.tree_size,
        "root": c.root,
        "timestamp": c.timestamp,
        "key_id": c.key_id,
        "signature": c.signature,
    }


# Who may see what ------------------------------------------------------------------------------------


def _material(user: User, pk: Any) -> object:
    """As ``material_download``: whoever may see the material's batch."""
    material = Material.objects.select_related("record__batch__org_unit").filter(pk=pk).first()
    if material is None:
        raise Http404
    perms.require(perms.can_view_batch(user, material.record.batch), "您无权查看该材料。")
    return material


# Subject type of the ledger → the fetch-or-403 helper of its web page.
SUBJECTS: dict[str, Callable[[User, Any], object]] = {
    "batch": perms.get_batch_for_user,
    "nomination": perms.get_nomination_for_user,
    "steprecord": perms.get_record_for_user,
    "material": _material,
    "volume": perms.get_volume_for_user,
    "earlywarning": dashboard.get_warning_for_user,
}


def require_subject(user: User, subject_type: str, subject_id: Any) -> None:
    helper = SUBJECTS.get(subject_type)
    if helper is None:
        raise ApplicationError(
            f"不支持的对象类型“{subject_type[:40]}”，可用：{'、'.join(SUBJECTS)}。",
            code="unknown_subject_type",
            extra={"allowed": list(SUBJECTS)},
        )
    helper(user, subject_id)


def verifiable_codes(user: User) -> list[str]:
    codes = [u.code for u in perms.verifiable_units(user)]
    perms.require(bool(codes), VERIFY_REFUSED)
    return codes


def verifiable_chain(user: User, fonds: str) -> Chain:
    """A chain the user may verify: 403 for a fonds outside their units, 404 for one with no chain yet."""
    perms.require(fonds in verifiable_codes(user), f"您无权核验全宗 {fonds[:20]} 的台账。")
    chain = Chain.objects.filter(fonds=fonds).first()
    if chain is None:
        raise Http404
    return chain


# Operations ------------------------------------------------------------------------------------------


@router.get("/events", response={200: list[EventOut], **ERRORS}, summary="某一对象的台账事件（含签名）")
@paginate(Paged)
def event_list(request: HttpRequest, query: Query[EventsIn]) -> Any:
    user = actor(request)
    require_subject(user, query.subject_type, query.subject_id)
    return [event_out(e, user) for e in selectors.events_for(query.subject_type, query.subject_id)]


@router.get(
    "/events/{fonds}/{seq}/proof",
    response={200: ProofOut, **ERRORS},
    summary="台账事件的签名与包含证明（对最新检查点）",
)
def event_proof(request: HttpRequest, fonds: FondsPath, seq: SeqPath) -> dict[str, Any]:
    user = actor(request)
    event = (
        Event.objects.select_related("chain").prefetch_related("signatures").filter(chain__fonds=fonds, seq=seq).first()
    )
    if event is None:
        raise Http404
    # Who verifies the fonds holds its whole chain; anyone else only events about what they may see.
    if fonds not in [u.code for u in perms.verifiable_units(user)]:
        if event.subject_type not in SUBJECTS:
            perms.require(False, "您无权查看该台账事件。")
        require_subject(user, event.subject_type, event.subject_id)
    item = selectors.evidence([event])[0]
    checkpoint = item["checkpoint"]
    return {
        "event": event_out(event, user),
        "checkpoint": checkpoint_out(checkpoint) if isinstance(checkpoint, Checkpoint) else None,
        "leaf_index": event.seq - 1,
        "proof": item.get("proof", []),
        "included": item.get("included"),
    }


@router.get("/checkpoints", response={200: list[CheckpointOut], **ERRORS}, summary="台账检查点（可核验的全宗）")
@paginate(Paged)
def checkpoint_list(request: HttpRequest, query: Query[FondsFilter]) -> Any:
    user = actor(request)
    codes = [verifiable_chain(user, query.fonds).fonds] if query.fonds else verifiable_codes(user)
    return (
        Checkpoint.objects.filter(chain__fonds__in=codes)
        .annotate(fonds=F("chain__fonds"), algorithm=F("chain__algorithm"))
        .order_by("fonds", "-tree_size")
    )


@router.post("/checkpoints", response={201: WitnessOut, **ERRORS}, summary="立即签发检查点（见证文本）")
def checkpoint_sign(request: HttpRequest, body: FondsIn) -> Status:
    chain = verifiable_chain(actor(request), body.fonds)
    with transaction.atomic():
        checkpoint = services.checkpoint_create(chain=Chain.objects.select_for_update().get(pk=chain.pk))
    return Status(201, {**checkpoint_out(checkpoint), "witness": selectors.witness_for(checkpoint).to_text()})


@router.get("/verify", response={200: VerifyOut, **ERRORS}, summary="核验全宗台账（完好或第一处断点）")
def chain_verify(request: HttpRequest, query: Query[FondsIn]) -> dict[str, Any]:
    chain = verifiable_chain(actor(request), query.fonds)
    problem = selectors.chain_verify(chain)
    return {
        "fonds": chain.fonds,
        "ok": problem is None,
        "events": chain.seq,
        "problem": {"fonds": problem.fonds, "seq": problem.seq, "what": problem.what} if problem else None,
    }
