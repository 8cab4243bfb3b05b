"""Build one fonds of the province dataset — its chain, its people and ten years of selection work.

Runs in a worker process with Django set up (models, settings, field encryption) but writes with its own
psycopg connection and ``COPY``, in one transaction per fonds. The rows mirror what the services write:

* ``accounts.services`` — ``org_unit.create``; ``user.create`` / ``role.grant`` per staff member;
* ``accounts.keys.signing_key_enrol`` — a personal Ed25519 key sealed under the PIN, published on the chain
  by a ``signing_key.enrol`` event signed by the unit's system key (so the verifier's ``Registry`` learns it);
* ``cadres.services`` — ``position.create``, ``cadre.create``;
* ``selection.services`` through ``selection.walk.walk_step`` — ``batch.create``, ``nomination.add``, then per
  step ``step.start``, ``step.save``, ``tally.save``, ``material.register``, ``notebook.add``, ``step.confirm``
  (signed by the signer's personal key) and ``step.complete``, with the same payloads and revisions.

Not reproduced: supervision findings (``checks.record_outcome``) and the archive filing that
``step_complete`` triggers when a person or batch finishes — neither is needed to verify the chain.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.types.json import Jsonb

from jishi.accounts.models import RoleAssignment, SigningKey, User
from jishi.cadres.models import Cadre, Position, RankLevel
from jishi.core import crypto
from jishi.ledger import signing
from jishi.ledger.models import Checkpoint, Event, Signature, SystemKey
from jishi.procedures.schema import ItemKind, ProcedureDefinition, Scope, Step
from jishi.selection.models import (
    Batch,
    BatchKind,
    Confirmation,
    Material,
    Nomination,
    NotebookEntry,
    StepRecord,
    VoteLine,
    VoteTally,
)
from jishi.selection.step_input import clean_step_data
from jishi.selection.walk import _notebook_kind, sample_values

from .dataset_chain import SYSTEM_LABEL, ChainBuilder
from .dataset_copy import CopyBuffer
from .dataset_plan import START_YEAR, STRIDE, YEARS, Context, FondsPlan

STAFF = [  # (role, title) — one person per signer role of the standard procedure
    ("clerk", "经办人"),
    ("section_head", "干部科科长"),
    ("dept_leader", "副部长"),
    ("discipline", "纪检监察组干部"),
    ("supervision", "干部监督科科长"),
    ("archivist", "档案管理员"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红海波鹏辉斌文俊林宇浩凯"
UNITS = [
    "发展和改革委员会",
    "财政局",
    "教育局",
    "公安局",
    "民政局",
    "自然资源局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "商务局",
    "卫生健康委员会",
    "审计局",
    "统计局",
    "乡镇人民政府",
    "街道办事处",
    "人民医院",
]
TITLES = [
    ("局长", RankLevel.COUNTY_CHIEF),
    ("副局长", RankLevel.COUNTY_DEPUTY),
    ("科长", RankLevel.TOWNSHIP_CHIEF),
    ("副科长", RankLevel.TOWNSHIP_DEPUTY),
    ("主任", RankLevel.COUNTY_CHIEF),
    ("副主任", RankLevel.COUNTY_DEPUTY),
]
MODELS = [  # COPY order: parents before children
    SystemKey,
    User,
    RoleAssignment,
    SigningKey,
    Event,
    Signature,
    Checkpoint,
    Position,
    Cadre,
    Batch,
    Batch.positions.through,
    Nomination,
    StepRecord,
    NotebookEntry,
    Material,
    VoteTally,
    VoteLine,
    Confirmation,
]
FLUSH_EVENTS = 25_000
UTC = dt.UTC


@dataclass
class Person:
    id: int
    username: str
    label: str
    key: Ed25519PrivateKey
    key_id: str


class Ids:
    """Primary keys for one fonds: (index + 1) * STRIDE + n, per table."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.next: dict[str, int] = {}

    def __call__(self, table: str) -> int:
        n = self.next.get(table, 0)
        if n >= STRIDE:
            raise OverflowError(f"more than {STRIDE} {table} rows in one fonds")
        self.next[table] = n + 1
        return self.base + n


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _private_key(rng: random.Random) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


class FondsBuilder:
    def __init__(self, plan: FondsPlan, parent_code: str | None, ctx: Context, definition: ProcedureDefinition):
        self.plan, self.ctx, self.definition = plan, ctx, definition
        self.parent_code = parent_code
        self.rng = random.Random(f"{ctx.seed}:{plan.code}")
        self.ids = Ids(plan.base)
        self.buf = CopyBuffer(MODELS)
        self.chain = ChainBuilder(
            fonds=plan.code,
            chain_id=plan.base,
            id_base=plan.base,
            system_key=_private_key(self.rng),
            checkpoint_every=ctx.checkpoint_every,
        )
        self.now = dt.datetime(START_YEAR, 1, 4, 8, 0, tzinfo=UTC) + dt.timedelta(minutes=plan.index)
        self.people: dict[str, Person] = {}
        self.files = 0
        self.file_bytes = 0
        self.steps = definition.steps()
        self.items = {step.id: definition.items_of(step.id) for step in self.steps}
        self.data_cache: dict[tuple[str, dt.date], dict[str, Any]] = {}
        for prefix in range(256):  # the storage's <2 hex> directories, made once
            (Path(ctx.materials_dir) / f"{prefix:02x}").mkdir(parents=True, exist_ok=True)
        self.timings = {"build": 0.0, "copy": 0.0, "files": 0.0}
        self.counts: dict[str, int] = {}

    # Time -----------------------------------------------------------------------------------------

    def tick(self, low: int = 30, high: int = 900) -> dt.datetime:
        """Advance the fonds' clock (whole seconds: isoformat then reads back identically from PostgreSQL)."""
        self.now += dt.timedelta(seconds=self.rng.randint(low, high))
        return self.now

    # Events ---------------------------------------------------------------------------------------

    def log(
        self, actor: Person | None, action: str, subject_type: str, subject_id: int | str, payload: dict[str, Any]
    ) -> tuple[int, int, str]:
        return self.chain.append(
            self.buf,
            at=self.now,
            actor_id=actor.id if actor else None,
            actor_label=actor.label if actor else SYSTEM_LABEL,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload,
        )

    def maybe_flush(self, conn: psycopg.Connection[Any]) -> None:
        if self.buf.pending(Event) >= FLUSH_EVENTS:
            self.flush(conn)

    def flush(self, conn: psycopg.Connection[Any]) -> None:
        started = time.perf_counter()
        self.buf.flush(conn)
        self.timings["copy"] += time.perf_counter() - started

    # The fonds --------------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        started = time.perf_counter()
        with psycopg.connect(self.ctx.database_url) as conn:
            # Foreign keys are not checked row by row (their triggers do not fire for a replica session): the
            # ids are assigned here and consistent by construction; the counts and chain_verify check after.
            conn.execute("SET session_replication_role = replica")
            self.genesis(conn)
            self.staff()
            positions = self.positions()
            cadres = self.cadres(conn)
            self.batches(conn, positions, cadres)
            self.flush(conn)
            conn.execute(
                "UPDATE ledger_chain SET seq = %s, head_hash = %s, frontier = %s WHERE id = %s",
                (self.chain.seq, self.chain.head, Jsonb(self.chain.frontier()), self.chain.chain_id),
            )
        total = time.perf_counter() - started
        self.timings["build"] = total - self.timings["copy"] - self.timings["files"]
        return {
            "fonds": self.plan.code,
            "seconds": total,
            "timings": self.timings,
            "rows": self.buf.written,
            "events": self.chain.counts["events"],
            "signatures": self.chain.counts["signatures"],
            "checkpoints": self.chain.counts["checkpoints"],
            "material_files": self.files,
            "material_bytes": self.file_bytes,
            "head": [self.chain.seq, self.chain.head],
        }

    def genesis(self, conn: psycopg.Connection[Any]) -> None:
        plan, chain = self.plan, self.chain
        public = chain.system_key.public_key().public_bytes_raw()
        private = chain.system_key.private_bytes_raw()
        # The Chain row first (seq 0): events reference it; seq, head and frontier are set when the fonds is done.
        conn.execute(
            "INSERT INTO ledger_chain (id, fonds, algorithm, seq, head_hash, checkpoint_every, frontier, created_at)"
            " VALUES (%s, %s, 'sha256', 0, %s, %s, '[]', %s)",
            (chain.chain_id, plan.code, "0" * 64, self.ctx.checkpoint_every, self.now),
        )
        self.buf.add(
            SystemKey,
            id=plan.base,
            fonds=plan.code,
            key_id=chain.system_key_id,
            public_key=public.hex(),
            sealed_private_key=crypto.encrypt(base64.b64encode(private).decode()),
            created_at=self.now,
        )
        event_id, seq, h = self.log(
            None,
            "chain.genesis",
            "chain",
            plan.code,
            {
                "algorithm": "sha256",
                "system_key": {"key_id": chain.system_key_id, "public_key": public.hex()},
                "checkpoint_every": self.ctx.checkpoint_every,
            },
        )
        chain.sign_system(self.buf, event_id=event_id, seq=seq, event_hash=h, at=self.now)
        self.tick(1, 5)
        self.log(
            None,
            "org_unit.create",
            "orgunit",
            plan.base,
            {"code": plan.code, "name": plan.name, "parent": self.parent_code},
        )

    def staff(self) -> None:
        for role, title in STAFF:
            self.tick(5, 60)
            uid = self.ids("user")
            username = f"{self.plan.code.lower()}_{role}"
            full_name = _name(self.rng)
            key = _private_key(self.rng)
            public = key.public_key().public_bytes_raw()
            key_id = signing.key_id(public)
            person = Person(uid, username, f"{full_name}({username})", key, key_id)
            self.people[role] = person
            self.buf.add(
                User,
                id=uid,
                password=self.ctx.password_hash,
                username=username,
                full_name=full_name,
                title=title,
                is_active=True,
                date_joined=self.now,
                password_changed_at=self.now,
            )
            self.log(None, "user.create", "user", uid, {"username": username, "full_name": full_name, "title": title})
            self.buf.add(
                RoleAssignment,
                id=self.ids("role"),
                user_id=uid,
                org_unit_id=self.plan.base,
                role=role,
                granted_at=self.now,
            )
            self.log(None, "role.grant", "user", uid, {"username": username, "role": role})
            self.tick(5, 60)
            # Sealed like keys._new_key, under the same PIN for everyone so benchmarks can sign as these users.
            sealed = signing.seal_private_key(key.private_bytes_raw(), self.ctx.pin, n_log2=self.ctx.scrypt_n_log2)
            self.buf.add(
                SigningKey,
                id=self.ids("signingkey"),
                user_id=uid,
                key_id=key_id,
                public_key=public.hex(),
                sealed_private_key=sealed,
                status="active",
                created_at=self.now,
            )
            event_id, seq, h = self.log(
                person,
                "signing_key.enrol",
                "user",
                uid,
                {"username": username, "key_id": key_id, "public_key": public.hex(), "algorithm": "ed25519"},
            )
            self.chain.sign_system(self.buf, event_id=event_id, seq=seq, event_hash=h, at=self.now)

    def positions(self) -> list[dict[str, Any]]:
        clerk = self.people["clerk"]
        made = []
        for _ in range(self.plan.positions):
            self.tick(1, 20)
            pid = self.ids("position")
            title, rank = self.rng.choice(TITLES)
            unit = self.rng.choice(UNITS)
            quota = self.rng.randint(1, 3)
            filled = self.rng.randint(0, quota)
            self.buf.add(
                Position,
                id=pid,
                org_unit_id=self.plan.base,
                unit_name=unit,
                title=title,
                rank_level=rank.value,
                quota=quota,
                filled=filled,
                is_key_post=False,
            )
            name = f"{unit}{title}"
            self.log(
                clerk,
                "position.create",
                "position",
                pid,
                {"name": name, "rank_level": rank.value, "quota": quota, "filled": filled},
            )
            made.append({"id": pid, "name": name, "quota": quota, "filled": filled})
        return made

    def cadres(self, conn: psycopg.Connection[Any]) -> list[tuple[int, str]]:
        clerk = self.people["clerk"]
        made = []
        region = 510000 + self.plan.index * 100
        for n in range(self.plan.cadres):
            self.tick(1, 20)
            cid = self.ids("cadre")
            name = _name(self.rng)
            sex = self.rng.choice(("男", "女"))
            born = dt.date(self.rng.randint(1965, 1992), self.rng.randint(1, 12), 1)
            work = dt.date(born.year + 22, 7, 1)
            since = dt.date(self.rng.randint(max(work.year, 2010), 2020), self.rng.randint(1, 12), 1)
            title, rank = self.rng.choice(TITLES)
            unit = self.rng.choice(UNITS)
            post = f"{unit}{title}"
            id_number = f"{region:06d}{born:%Y%m%d}{n % 1000:03d}{self.rng.randrange(10)}"
            id_hash = crypto.lookup_hash(id_number)
            self.buf.add(
                Cadre,
                id=cid,
                org_unit_id=self.plan.base,
                name=name,
                sex=sex,
                birth_month=born,
                ethnicity="汉族",
                native_place="四川",
                birthplace="四川",
                party_status="中共党员",
                party_join_month=work,
                work_start_month=work,
                health="健康",
                fulltime_education="大学",
                fulltime_degree="学士",
                resume=f"{work:%Y.%m}--{since:%Y.%m}  {unit}科员\n{since:%Y.%m}--  {post}",
                current_post=post,
                current_rank=rank.value,
                current_post_since=since,
                current_rank_since=since,
                id_number_encrypted=crypto.encrypt(id_number),
                id_number_hash=id_hash,
                photo=b"",
            )
            self.log(
                clerk, "cadre.create", "cadre", cid, {"name": name, "current_post": post, "id_number_hash": id_hash}
            )
            made.append((cid, name))
            self.maybe_flush(conn)
        return made

    def batches(
        self, conn: psycopg.Connection[Any], positions: list[dict[str, Any]], cadres: list[tuple[int, str]]
    ) -> None:
        count = len(self.plan.nominations_per_batch)
        span = dt.timedelta(days=365 * YEARS - 30)
        start = self.now
        per_year: dict[int, int] = {}
        for j, size in enumerate(self.plan.nominations_per_batch):
            self.now = max(self.now, start + span * j / max(count, 1))
            self.now = self.now.replace(microsecond=0)
            year = self.now.astimezone(dt.timezone(dt.timedelta(hours=8))).year
            per_year[year] = per_year.get(year, 0) + 1
            complete = self.rng.random() < self.ctx.complete_share
            self.batch(f"{self.plan.code}-{year}-{per_year[year]:03d}", size, positions, cadres, complete)
            self.maybe_flush(conn)

    def batch(
        self, number: str, size: int, positions: list[dict[str, Any]], cadres: list[tuple[int, str]], complete: bool
    ) -> None:
        rng, clerk = self.rng, self.people["clerk"]
        self.tick()
        bid = self.ids("batch")
        chosen = rng.sample(positions, min(len(positions), rng.randint(1, 3)))
        kind = rng.choice([BatchKind.ROUTINE.value] * 4 + [BatchKind.TERM.value, BatchKind.COMPETITIVE.value])
        title = f"{number[-8:-4]}年第{int(number[-3:])}批干部调整"
        reason = "职位空缺，按干部管理权限启动选拔任用程序"
        created_at = self.now
        for p in chosen:
            self.buf.add(Batch.positions.through, id=self.ids("batch_positions"), batch_id=bid, position_id=p["id"])
        self.log(
            clerk,
            "batch.create",
            "batch",
            bid,
            {
                "batch": number,
                "title": title,
                "kind": kind,
                "reason": reason,
                "procedure": self.ctx.procedure,
                "positions": [
                    {"id": p["id"], "name": p["name"], "quota": p["quota"], "filled": p["filled"]} for p in chosen
                ],
            },
        )
        nominations = []
        for k, (cid, name) in enumerate(rng.sample(cadres, min(size, len(cadres))), start=1):
            self.tick(60, 600)
            nid = self.ids("nomination")
            position = rng.choice(chosen)
            nnumber = f"{number}-{k:02d}"
            self.buf.add(
                Nomination,
                id=nid,
                batch_id=bid,
                cadre_id=cid,
                position_id=position["id"],
                number=nnumber,
                status="active",
                added_by_id=clerk.id,
                added_at=self.now,
            )
            self.log(
                clerk,
                "nomination.add",
                "nomination",
                nid,
                {
                    "batch": number,
                    "number": nnumber,
                    "cadre": {"id": cid, "name": name},
                    "position": {"id": position["id"], "name": position["name"]},
                },
            )
            nominations.append((nid, nnumber))
        units: list[tuple[Step, tuple[int, str] | None]] = []
        for step in self.steps:
            if step.scope == Scope.BATCH:
                units.append((step, None))
            else:
                units.extend((step, n) for n in nominations)
        if not complete:
            units = units[: rng.randrange(len(units))]
        base = self.now.date() + dt.timedelta(days=7)
        for step, nomination in units:
            self.step(bid, number, step, nomination, nominations, base)
        # Added last, for its 办结时间; the batch's rows are flushed together (parents first), never split.
        self.buf.add(
            Batch,
            id=bid,
            org_unit_id=self.plan.base,
            number=number,
            title=title,
            kind=kind,
            reason=reason,
            procedure_id=self.ctx.procedure_id,
            created_by_id=clerk.id,
            created_at=created_at,
            finished_at=self.now if complete else None,  # as step_complete sets it
        )

    def step(
        self,
        bid: int,
        number: str,
        step: Step,
        nomination: tuple[int, str] | None,
        nominations: list[tuple[int, str]],
        base: dt.date,
    ) -> None:
        rng, clerk, buf = self.rng, self.people["clerk"], self.buf
        rid = self.ids("steprecord")
        self.tick()
        started_at = self.now
        nid, nnumber = nomination if nomination else (None, None)
        self.log(clerk, "step.start", "steprecord", rid, {"batch": number, "step": step.id, "nomination": nnumber})
        revision, data = 0, {}
        if step.fields:
            self.tick()
            key = (step.id, base)
            if key not in self.data_cache:
                self.data_cache = {k: v for k, v in self.data_cache.items() if k[1] == base}
                self.data_cache[key] = clean_step_data(step, sample_values(step, base))
            data = self.data_cache[key]
            revision += 1
            self.log(
                clerk,
                "step.save",
                "steprecord",
                rid,
                {"batch": number, "step": step.id, "revision": revision, "data": data},
            )
        if step.tally:
            self.tick()
            candidates = [nomination] if nomination else nominations
            tid = self.ids("tally")
            buf.add(VoteTally, id=tid, record_id=rid, kind=step.tally.kind.value, due=9, present=8, valid_ballots=8)
            for cand_id, _ in candidates:
                buf.add(
                    VoteLine,
                    id=self.ids("voteline"),
                    tally_id=tid,
                    nomination_id=cand_id,
                    approve=7,
                    oppose=1,
                    abstain=0,
                    defer=0,
                )
            revision += 1
            self.log(
                clerk,
                "tally.save",
                "steprecord",
                rid,
                {
                    "batch": number,
                    "step": step.id,
                    "revision": revision,
                    "due": 9,
                    "present": 8,
                    "valid_ballots": 8,
                    "lines": {c[1]: [7, 1, 0, 0] for c in candidates},
                },
            )
        shas: list[str] = []
        notebook: list[int] = []
        for item in self.items[step.id]:
            self.tick()
            if item.kind == ItemKind.MATERIAL:
                mid = self.ids("material")
                sha, size, kind = "", 0, ""
                if rng.random() < self.ctx.material_file_share:
                    sha, size = self.material_file(mid, number, item.name)
                    kind = "pdf"
                buf.add(
                    Material,
                    id=mid,
                    record_id=rid,
                    item_id=item.id,
                    title=item.name,
                    document_number="",
                    pages=2,
                    sha256=sha,
                    size=size,
                    original_name=f"{item.name}.pdf" if sha else "",
                    kind=kind,
                    registered_by_id=clerk.id,
                    registered_at=self.now,
                )
                shas.append(sha)
                revision += 1
                self.log(
                    clerk,
                    "material.register",
                    "steprecord",
                    rid,
                    {
                        "batch": number,
                        "step": step.id,
                        "material": mid,
                        "item": item.id,
                        "title": item.name,
                        "document_number": "",
                        "pages": 2,
                        "sha256": sha,
                        "size": size,
                        "kind": kind,
                    },
                )
            elif item.kind == ItemKind.NOTEBOOK:
                eid = self.ids("notebook")
                occurred = self.now - dt.timedelta(hours=1)
                kind = _notebook_kind(item.name)
                participants = f"{clerk.label.split('(')[0]} 等"
                content = f"{item.name}：按规定听取、记录，内容属实。"
                buf.add(
                    NotebookEntry,
                    id=eid,
                    record_id=rid,
                    item_id=item.id,
                    kind=kind,
                    occurred_at=occurred,
                    place="组织部会议室",
                    participants=participants,
                    content=content,
                    recorder_id=clerk.id,
                    created_at=self.now,
                )
                notebook.append(eid)
                revision += 1
                self.log(
                    clerk,
                    "notebook.add",
                    "steprecord",
                    rid,
                    {
                        "batch": number,
                        "step": step.id,
                        "entry": eid,
                        "item": item.id,
                        "kind": kind,
                        "occurred_at": occurred.isoformat(),
                        "place": "组织部会议室",
                        "participants": participants,
                        "content": content,
                    },
                )
        confirmations: list[list[str]] = []
        for role in step.signer_roles:
            self.tick()
            signer = self.people[role.value]
            event_id, seq, h = self.log(
                signer,
                "step.confirm",
                "steprecord",
                rid,
                {
                    "batch": number,
                    "step": step.id,
                    "role": role.value,
                    "revision": revision,
                    "data": data,
                    "materials": sorted(s for s in shas if s),
                    "notebook": sorted(notebook),
                    "key_id": signer.key_id,
                },
            )
            self.chain.sign(
                buf,
                event_id=event_id,
                seq=seq,
                event_hash=h,
                key=signer.key,
                key_id=signer.key_id,
                signer=signer.username,
                role=role.value,
                at=self.now,
            )
            buf.add(
                Confirmation,
                id=self.ids("confirmation"),
                record_id=rid,
                user_id=signer.id,
                role=role.value,
                revision=revision,
                confirmed_at=self.now,
                event_hash=h,
            )
            confirmations.append([role.value, h])
        self.tick()
        buf.add(
            StepRecord,
            id=rid,
            batch_id=bid,
            nomination_id=nid,
            step_id=step.id,
            status="completed",
            data=data,
            revision=revision,
            started_by_id=clerk.id,
            started_at=started_at,
            completed_by_id=clerk.id,
            completed_at=self.now,
        )
        self.log(
            clerk,
            "step.complete",
            "steprecord",
            rid,
            {
                "batch": number,
                "step": step.id,
                "nomination": nnumber,
                "revision": revision,
                "data": data,
                "confirmations": confirmations,
                "materials": shas,
            },
        )

    def material_file(self, mid: int, number: str, title: str) -> tuple[str, int]:
        """A few hundred bytes, stored content-addressed like ``core.storage.put`` (``<2 hex>/<sha256>``)."""
        import hashlib

        started = time.perf_counter()
        body = (
            f"%PDF-1.4\n% jishi synthetic material\n% {self.plan.code} {number} #{mid} {title}\n"
            f"% {self.rng.randbytes(96).hex()}\n%%EOF\n"
        ).encode()
        sha = hashlib.sha256(body).hexdigest()
        target = Path(self.ctx.materials_dir) / sha[:2] / sha
        # Written in place (no temporary file and rename as core.storage.put does): an interrupted run is
        # regenerated from scratch anyway, and the content is fixed by the seed.
        with open(target, "wb") as fh:
            fh.write(body)
        self.files += 1
        self.file_bytes += len(body)
        self.timings["files"] += time.perf_counter() - started
        return sha, len(body)


def build_fonds(args: tuple[FondsPlan, str | None, Context]) -> dict[str, Any]:
    """Pool entry point (the worker initializer has set Django up)."""
    from jishi.procedures.models import ProcedureVersion

    plan, parent_code, ctx = args
    definition = ProcedureVersion.objects.get(pk=ctx.procedure_id).definition
    from django.db import connection

    connection.close()  # the ORM was only needed to read the procedure; rows go through COPY
    return FondsBuilder(plan, parent_code, ctx, definition).build()
