"""The authorization policy: one table, the single source of truth for ``accounts.permissions``.

A cell of the table is (role, action, relation, state) → allow or deny.

* **role** — a :class:`~jishi.core.roles.Role`, held by a user in one org unit (``RoleAssignment``).
* **action** — a dotted name (``batch.view``, ``step.confirm``, ``field.votes`` …), listed in :data:`ACTIONS`.
* **relation** — where the object lies seen from the unit in which the role is held: ``own`` (the same unit),
  ``child`` (a unit below it, at any depth), ``parent`` (a unit above it, at any depth), ``sibling``
  (another unit under the same parent).  ``none`` is everything else (unrelated trees): always denied.
* **state** — the state of the object the action applies to (a step record, an archive volume, a disposition);
  objects without a lifecycle have the single state ``-``.

The table is an *upper bound*.  Two things can narrow it further, never widen it:

1. the procedure definition: ``step.work`` is further limited to the step's ``responsible_roles`` plus the
   干部科长 who leads the work; ``step.confirm`` to the step's ``signer_roles`` (the role one confirms as).
   A definition naming, say, 安全管理员 as a signer therefore grants nothing.
2. the services' own business checks (four-eyes: the checker of a volume is not its organizer; a record is
   frozen once completed …), which raise ``ApplicationError`` rather than 403.

Separation of duties (三权分立) is built into the table: the three administrator roles (``ADMIN_ROLES``) appear
in no selection-record action; 干部监督 and 安全审计员 change no selection record (干部监督 keeps its
supervisory acts: confirming the steps that name it, verifying feedback, key posts, legal holds); 纪检监察 is
read-only on selection records except confirming the steps whose definition names it.

Pure Python: no Django imports, so the table can be rendered, diffed and tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jishi.core.roles import ADMIN_ROLES, Role

# Relations -----------------------------------------------------------------------------------------

OWN = "own"
CHILD = "child"
PARENT = "parent"
SIBLING = "sibling"
NONE = "none"
RELATIONS: tuple[str, ...] = (OWN, CHILD, PARENT, SIBLING)
RELATION_LABELS = {OWN: "本单位", CHILD: "下级单位", PARENT: "上级单位", SIBLING: "同级其他单位"}

# Object kinds and their states ---------------------------------------------------------------------

NO_STATE = "-"
NOT_STARTED = "not_started"
STATES: dict[str, tuple[str, ...]] = {
    "unit": (NO_STATE,),
    "batch": (NO_STATE,),
    "cadre": (NO_STATE,),
    "position": (NO_STATE,),
    "system": (NO_STATE,),
    # selection.StepRecord.status, plus "not yet started" (no record)
    "record": (NOT_STARTED, "in_progress", "completed", "waived"),
    # archives.VolumeStatus
    "volume": ("draft", "organized", "archived"),
    # archives.DispositionStatus
    "disposition": ("proposed", "approved", "rejected", "executed"),
}

# Role groups (shorthand for the table only) --------------------------------------------------------

R = Role
ALL_ROLES = frozenset(Role)
WORK = frozenset(set(Role) - ADMIN_ROLES)  # roles that see selection work at all
OVERSIGHT = frozenset({R.DEPT_LEADER, R.SUPERVISION, R.DISCIPLINE})  # see the units below theirs
MANAGE = frozenset({R.CLERK, R.SECTION_HEAD})
ANY_STATE: frozenset[str] | None = None


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    relations: frozenset[str]
    states: frozenset[str] | None = None  # None: every state of the object kind


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    kind: str  # object kind, a key of STATES
    rules: tuple[Rule, ...]
    note: str = ""


def _rule(roles: Iterable[Role], relations: Iterable[str] = (OWN,), states: Iterable[str] | None = None) -> Rule:
    return Rule(frozenset(roles), frozenset(relations), None if states is None else frozenset(states))


def _a(name: str, label: str, kind: str, *rules: Rule, note: str = "") -> Action:
    return Action(name, label, kind, tuple(rules), note)


OPEN_RECORD = (NOT_STARTED, "in_progress")
DONE_RECORD = ("completed", "waived")

_TABLE: tuple[Action, ...] = (
    # Selection records ---------------------------------------------------------------------------
    _a(
        "batch.view",
        "查看批次、人选、步骤纪实",
        "batch",
        _rule(WORK, (OWN,)),
        _rule(OVERSIGHT, (CHILD,)),
        note="上级组织部门的部领导、干部监督、纪检监察监督下级。",
    ),
    _a("batch.create", "新建调整批次", "unit", _rule(MANAGE)),
    _a("nomination.manage", "提出、退出人选", "batch", _rule(MANAGE)),
    _a(
        "step.work",
        "开始、填写、完成步骤",
        "record",
        _rule(WORK - {R.SUPERVISION}, (OWN,), OPEN_RECORD),
        note="上限；再由步骤定义的责任人（另加干部科长）收窄。",
    ),
    _a(
        "step.confirm",
        "以某身份确认步骤",
        "record",
        _rule(WORK, (OWN,), ("in_progress",)),
        note="上限；只能以步骤定义的确认人身份确认。",
    ),
    _a("step.waive", "免除步骤", "record", _rule({R.DEPT_LEADER}, (OWN,), OPEN_RECORD)),
    _a("record.correct", "更正已办结的纪实", "record", _rule({R.SECTION_HEAD, R.DEPT_LEADER}, (OWN,), DONE_RECORD)),
    _a("material.download", "下载纪实材料", "batch", _rule(WORK, (OWN,)), _rule(OVERSIGHT, (CHILD,))),
    # Cadres --------------------------------------------------------------------------------------
    _a("cadre.view", "查看干部信息", "cadre", _rule(WORK, (OWN,)), _rule(OVERSIGHT, (CHILD,))),
    _a("cadre.edit", "维护干部信息、导入任免审批表", "unit", _rule(MANAGE)),
    _a("keypost.flag", "设定重要岗位", "position", _rule({R.SECTION_HEAD, R.DEPT_LEADER, R.SUPERVISION})),
    _a("keypost.review", "审核重要岗位动议", "batch", _rule({R.SUPERVISION})),
    # Sensitive fields (read) ---------------------------------------------------------------------
    _a(
        "field.id_number",
        "身份证号",
        "cadre",
        _rule({R.CLERK, R.SECTION_HEAD, R.DEPT_LEADER, R.SUPERVISION}),
        note="其他角色只见脱敏号码；任免审批表（LRMX）导出同此。",
    ),
    _a(
        "field.discipline_opinion",
        "纪检监察机关意见（廉政意见）",
        "batch",
        _rule({R.CLERK, R.SECTION_HEAD, R.DEPT_LEADER, R.SUPERVISION, R.DISCIPLINE}),
        _rule({R.DEPT_LEADER, R.SUPERVISION, R.DISCIPLINE}, (CHILD,)),
        note="D06 廉政意见、K09 纪检监察机关意见结论。",
    ),
    _a(
        "field.votes",
        "推荐、测评、表决的得票明细",
        "batch",
        _rule({R.CLERK, R.SECTION_HEAD, R.DEPT_LEADER, R.SUPERVISION, R.DISCIPLINE}),
        _rule({R.DEPT_LEADER, R.SUPERVISION, R.DISCIPLINE}, (CHILD,)),
        note="每名人选的同意、不同意、弃权、缓议票数；应到、实到、有效票数不受限。",
    ),
    # Archives ------------------------------------------------------------------------------------
    _a(
        "archive.view",
        "查看案卷",
        "unit",
        _rule({R.ARCHIVIST, R.CLERK, R.SECTION_HEAD, *OVERSIGHT}, (OWN,)),
        _rule(OVERSIGHT, (CHILD,)),
    ),
    _a("archive.build", "组卷", "batch", _rule({R.ARCHIVIST, R.CLERK, R.SECTION_HEAD})),
    _a("archive.organize", "整理案卷", "volume", _rule({R.ARCHIVIST, R.CLERK}, (OWN,), ("draft",))),
    _a(
        "archive.accept",
        "检查验收案卷",
        "volume",
        _rule({R.ARCHIVIST, R.SECTION_HEAD}, (OWN,), ("organized",)),
        note="检查人不得是整理人（服务层另行检查）。",
    ),
    _a("archive.custody", "移交、提出和执行销毁鉴定", "volume", _rule({R.ARCHIVIST}, (OWN,), ("archived",))),
    _a("archive.approve_disposal", "批准销毁", "disposition", _rule({R.DEPT_LEADER}, (OWN,), ("proposed",))),
    _a("archive.hold", "冻结、解除冻结（法律保全）", "volume", _rule(OVERSIGHT)),
    # Supervision ---------------------------------------------------------------------------------
    _a(
        "ledger.verify",
        "核验台账",
        "unit",
        _rule({R.SUPERVISION, R.DISCIPLINE, R.DEPT_LEADER, R.ARCHIVIST}, (OWN, CHILD)),
    ),
    _a("supervision.trace", "责任倒查、监督反映队列", "unit", _rule(OVERSIGHT, (OWN, CHILD))),
    _a(
        "supervision.dashboard",
        "监督预警看板",
        "unit",
        _rule(OVERSIGHT, (OWN, CHILD)),
        _rule({R.SECTION_HEAD}, (OWN,)),
    ),
    _a("warning.explain", "对预警作出说明", "unit", _rule({*OVERSIGHT, R.SECTION_HEAD})),
    _a("feedback.verify", "记录反映问题核查结论", "unit", _rule({R.SUPERVISION, R.DISCIPLINE})),
    # Administration (三权分立) --------------------------------------------------------------------
    _a(
        "calendar.edit",
        "维护工作日历",
        "system",
        _rule({R.SYSADMIN}, RELATIONS),
        note="全系统一份日历：任一单位的系统管理员均可维护。",
    ),
    _a("user.manage", "管理用户账号", "unit", _rule({R.SYSADMIN}, (OWN, CHILD))),
    _a("role.grant", "授予、撤销角色", "unit", _rule({R.SECADMIN}, (OWN, CHILD))),
    _a("security.unlock", "解锁账号、安全策略、会话管理", "unit", _rule({R.SECADMIN}, (OWN, CHILD))),
    _a("audit.view", "查阅、导出安全审计记录", "unit", _rule({R.AUDITOR}, (OWN, CHILD))),
)

ACTIONS: dict[str, Action] = {a.name: a for a in _TABLE}

# Markers for URL and API coverage (not actions of the table).
PUBLIC = "PUBLIC"  # no login: login page, public notices, health checks
AUTHENTICATED = "AUTHENTICATED"  # any signed-in user, acting on their own things (inbox, signing key, tokens)
OBJECT_SCOPED = "OBJECT_SCOPED"  # listing pages: every signed-in user, filtered to what batch.view allows

# Sensitive step fields: (step id, field id) → the field action that may read them.
SENSITIVE_STEP_FIELDS: dict[tuple[str, str], str] = {
    ("D06", "opinion"): "field.discipline_opinion",
    ("K09", "conclusion"): "field.discipline_opinion",
}


def action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise KeyError(f"unknown policy action {name!r}") from None


def allows(roles: Iterable[Role | str], action_name: str, relation: str, state: str | None = None) -> bool:
    """Whether any of the roles may do the action on an object in that relation (and state).

    ``state=None`` asks about roles and relation only (the caller checks the state elsewhere, or the object
    has none).
    """
    act = action(action_name)
    held = {Role(r) for r in roles}
    for rule in act.rules:
        if relation not in rule.relations or not (held & rule.roles):
            continue
        if state is None or rule.states is None or state in rule.states:
            return True
    return False


def roles_for(action_name: str, relation: str = OWN, state: str | None = None) -> frozenset[Role]:
    """The roles allowed the action in that relation (and state)."""
    return frozenset(r for r in Role if allows((r,), action_name, relation, state))


def relations_for(action_name: str, role: Role | str) -> frozenset[str]:
    return frozenset(rel for rel in RELATIONS if allows((role,), action_name, rel))


def cells() -> list[tuple[Role, str, str, str, bool]]:
    """Every cell of the table: (role, action, relation, state, allowed)."""
    out = []
    for act in _TABLE:
        for role in Role:
            for relation in RELATIONS:
                for state in STATES[act.kind]:
                    st = None if state == NO_STATE else state
                    out.append((role, act.name, relation, state, allows((role,), act.name, relation, st)))
    return out


def relation_between(held_path: tuple[int, ...], object_path: tuple[int, ...]) -> str:
    """Relation of an object's unit to the unit where a role is held, from root-to-unit id paths."""
    if held_path == object_path:
        return OWN
    if object_path[: len(held_path)] == held_path:
        return CHILD
    if held_path[: len(object_path)] == object_path:
        return PARENT
    if len(held_path) >= 2 and len(object_path) >= 2 and held_path[:-1] == object_path[:-1]:
        return SIBLING
    return NONE


def render_markdown() -> str:
    """The table as Markdown (docs/security-policy.md embeds it; a test keeps the doc current)."""
    lines = ["| action | 说明 | object | role | relations | states |", "|---|---|---|---|---|---|"]
    for act in _TABLE:
        for rule in act.rules:
            roles = ", ".join(r.value for r in Role if r in rule.roles)
            rels = ", ".join(r for r in RELATIONS if r in rule.relations)
            states = "any" if rule.states is None else ", ".join(s for s in STATES[act.kind] if s in rule.states)
            lines.append(f"| `{act.name}` | {act.label} | {act.kind} | {roles} | {rels} | {states} |")
    return "\n".join(lines) + "\n"


# URL and API coverage ------------------------------------------------------------------------------
# Every URL pattern name (``namespace:name`` inside a namespace) and every django-ninja operation id maps to
# the action that guards it, or to a marker. A test fails on a URL or operation missing here and on an entry
# whose URL or operation no longer exists. List pages map to the action that filters what they show.

URL_ACTIONS: dict[str, str] = {
    # Sign-in, language, health, public notices
    "login": PUBLIC,
    "logout": AUTHENTICATED,
    "set_language": PUBLIC,
    "healthz": PUBLIC,
    "bench_trivial": PUBLIC,  # benchmark baseline; 404 unless JISHI_BENCH_VIEWS=true
    "public_notice_list": PUBLIC,
    "public_notice": PUBLIC,
    "public_feedback_received": PUBLIC,
    # A user's own things
    "signing": AUTHENTICATED,
    "signing_action": AUTHENTICATED,
    "api_tokens": AUTHENTICATED,
    "api_token_revoke": AUTHENTICATED,
    "inbox": AUTHENTICATED,
    "inbox_read": AUTHENTICATED,
    "inbox_read_all": AUTHENTICATED,
    "otp_setup": AUTHENTICATED,
    "otp_verify": AUTHENTICATED,
    "password_change": AUTHENTICATED,
    "procedure_list": AUTHENTICATED,
    "procedure_detail": AUTHENTICATED,
    "reference_template_list": AUTHENTICATED,
    "reference_template_version_list": AUTHENTICATED,
    "reference_template_version_docx": AUTHENTICATED,
    "reference_template_version_pdf": AUTHENTICATED,
    "reference_template_docx": AUTHENTICATED,
    "reference_template_pdf": AUTHENTICATED,
    # Administration (三权分立)
    "signing_admin": "security.unlock",
    "signing_admin_action": "security.unlock",
    "user_admin": "user.manage",
    "user_admin_*": "user.manage",
    "role_admin": "role.grant",
    "role_admin_*": "role.grant",
    "role_admin_unlock": "security.unlock",
    "role_admin_otp_reset": "security.unlock",
    "session_admin": "security.unlock",
    "session_admin_*": "security.unlock",
    "audit_search": "audit.view",
    "audit_export": "audit.view",
    "work_calendar": AUTHENTICATED,
    "work_calendar_override": "calendar.edit",
    "work_calendar_override_remove": "calendar.edit",
    # Selection
    "home": "batch.view",
    "batch_list": "batch.view",
    "batch_create": "batch.create",
    "batch_detail": "batch.view",
    "nomination_add": "nomination.manage",
    "nomination_detail": "batch.view",
    "nomination_drop": "nomination.manage",
    "step_batch": "batch.view",
    "step_nomination": "batch.view",
    "step_start_batch": "step.work",
    "step_start_nomination": "step.work",
    "step_waive_batch": "step.waive",
    "step_waive_nomination": "step.waive",
    "record_save": "step.work",
    "record_tally": "step.work",
    "record_notebook": "step.work",
    "record_material": "step.work",
    "record_confirm": "step.confirm",
    "record_complete": "step.work",
    "material_download": "material.download",
    "record_correct": "record.correct",
    # Cadres
    "cadre_list": "cadre.view",
    "cadre_detail": "cadre.view",
    "cadre_lrmx_export": "field.id_number",
    "cadre_lrmx_import": "cadre.edit",
    "cadre_lrmx_confirm": "cadre.edit",
    # Documents
    "register": "batch.view",
    "register_export": "batch.view",
    "notebook_print": "batch.view",
    "notebook_pdf": "batch.view",
    "report_form": "batch.view",
    "report_form_pdf": "batch.view",
    "approval_form_pdf": "batch.view",
    "cadre_approval_form_pdf": "cadre.view",
    # Ledger
    "ledger": "ledger.verify",
    "ledger_verify": "ledger.verify",
    "ledger_witness": "ledger.verify",
    # Archives
    "archive_list": "archive.view",
    "archive_build": "archive.build",
    "archive_volume": "archive.view",
    "archive_organize": "archive.organize",
    "archive_accept": "archive.accept",
    "archive_catalogue": "archive.view",
    "archive_transfer": "archive.custody",
    "archive_transfer_list": "archive.view",
    "archive_hold_place": "archive.hold",
    "archive_hold_release": "archive.hold",
    "archive_retention": "archive.view",
    "archive_propose": "archive.custody",
    "archive_disposition": "archive.view",
    "archive_decide": "archive.approve_disposal",
    "archive_execute": "archive.custody",
    "archive_disposition_pdf": "archive.view",
    # Supervision
    "supervision_dashboard": "supervision.dashboard",
    "warning_list": "supervision.dashboard",
    "warning_detail": "batch.view",
    "warning_explain": "warning.explain",
    "trace_nomination": "supervision.trace",
    "trace_nomination_export": "supervision.trace",
    "trace_user": "supervision.trace",
    "trace_user_export": "supervision.trace",
    "trace_warning": "supervision.trace",
    "trace_warning_export": "supervision.trace",
    "key_posts": "batch.view",
    "key_post_flag": "keypost.flag",
    "key_post_review": "keypost.review",
    "feedback_queue": "supervision.trace",
    "feedback_detail": "supervision.trace",
    "feedback_verify": "feedback.verify",
    # The JSON API's own pages (its operations are listed in API_ACTIONS)
    "api:openapi-json": AUTHENTICATED,
    "api:openapi-view": AUTHENTICATED,
    "api:api-root": AUTHENTICATED,
}

API_ACTIONS: dict[str, str] = {
    "token_list": AUTHENTICATED,
    "token_create": AUTHENTICATED,
    "token_revoke": AUTHENTICATED,
    "org_unit_list": "batch.view",
    "procedure_list": AUTHENTICATED,
    "procedure_show": AUTHENTICATED,
    "cadre_list": "cadre.view",
    "cadre_create": "cadre.edit",
    "cadre_show": "cadre.view",
    "cadre_update": "cadre.edit",
    "cadre_delete": "cadre.edit",
    "cadre_lrmx_export": "field.id_number",
    "cadre_lrmx_preview": "cadre.edit",
    "cadre_lrmx_import": "cadre.edit",
    "batch_list": "batch.view",
    "batch_create": "batch.create",
    "batch_show": "batch.view",
    "batch_available_steps": "batch.view",
    "nomination_list": "batch.view",
    "nomination_add": "nomination.manage",
    "step_start": "step.work",
    "step_waive": "step.waive",
    "record_show": "batch.view",
    "record_save": "step.work",
    "record_confirm": "step.confirm",
    "record_complete": "step.work",
    "record_correct": "record.correct",
    "nomination_show": "batch.view",
    "nomination_drop": "nomination.manage",
    "material_register": "step.work",
    "material_list": "batch.view",
    "material_download": "material.download",
    "notebook_add": "step.work",
    "notebook_list": "batch.view",
    "tally_save": "step.work",
    "tally_show": "field.votes",
    "warning_list": "supervision.dashboard",
    "warning_show": "batch.view",
    "warning_explain": "warning.explain",
    "notice_list": PUBLIC,
    "notice_show": PUBLIC,
    "event_list": "ledger.verify",
    "event_proof": "ledger.verify",
    "checkpoint_list": "ledger.verify",
    "checkpoint_sign": "ledger.verify",
    "chain_verify": "ledger.verify",
    "volume_list": "archive.view",
    "volume_show": "archive.view",
    "volume_build": "archive.build",
    "volume_organize": "archive.organize",
    "volume_accept": "archive.accept",
    "volume_catalogue": "archive.view",
    "volume_export": "archive.view",
    "batch_export": "archive.view",
}


# Names other helpers are adding while this table is written; the coverage test tolerates their absence.
def url_entry(name: str) -> str | None:
    """The mapping entry for a URL name (``prefix_*`` entries cover every name with that prefix)."""
    if name in URL_ACTIONS:
        return URL_ACTIONS[name]
    for key, value in URL_ACTIONS.items():
        if key.endswith("*") and name.startswith(key[:-1]):
            return value
    return None


def render_grid() -> str:
    """Roles × actions at a glance: each cell lists the relations allowed (O own, C child, P parent, S sibling);
    a state restriction is in the detailed table."""
    short = {OWN: "O", CHILD: "C", PARENT: "P", SIBLING: "S"}
    head = "| action | " + " | ".join(r.value for r in Role) + " |"
    lines = [head, "|---" * (len(Role) + 1) + "|"]
    for act in _TABLE:
        cells = ["".join(short[rel] for rel in RELATIONS if allows((role,), act.name, rel)) or "·" for role in Role]
        lines.append(f"| `{act.name}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
