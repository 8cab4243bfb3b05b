"""Procedure definition schema (流程定义) — pure pydantic models, no Django.

A definition is data: stages → steps → documentation items (纪实项目) → requirements (纪实要求).
Items are declared inline in the step that first produces them; a later step that adds to the same
item lists its id under ``item_refs``. Cross-references (prerequisites, item refs, rule codes) are
checked in ``ProcedureDefinition``'s validator so a broken file fails at load, never at run time.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from jishi.core.roles import Role

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=40)]


class Scope(StrEnum):
    BATCH = "batch"  # 批次级：一批一记，约束本批全部人选
    NOMINATION = "nomination"  # 人选级：一人一表


class ItemKind(StrEnum):
    MATERIAL = "material"  # 原件、复印件或系统附件
    NOTEBOOK = "notebook"  # 纪实专用笔记本记录
    FORM = "form"  # 本步骤的结构化表单（字段、票数）


class ArchiveStream(StrEnum):
    BATCH = "batch"  # 干部任用综合文书档案（一批一档）
    PERSONAL = "personal"  # 干部任用个人文书档案（一人一表）


class Method(StrEnum):
    """纪实方式 codes, procedure-reference §7."""

    BJ = "BJ"  # 纪实专用笔记本手写记录
    BG = "BG"  # 规范表格填报
    YJ = "YJ"  # 原件/复印件归档
    JY = "JY"  # 会议记录/纪要
    LY = "LY"  # 录音
    XT = "XT"  # 系统录入+附件上传
    QZ = "QZ"  # 责任人签字确认


class FieldType(StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    CHOICE = "choice"
    BOOLEAN = "boolean"


class TallyKind(StrEnum):
    RECOMMENDATION = "recommendation"  # 民主推荐：推荐/不推荐/弃权
    ASSESSMENT = "assessment"  # 民主测评、征求意见：同意/不同意/弃权
    DECISION = "decision"  # 部务会、党委（党组）会议表决：同意/不同意/弃权/缓议


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalBasis(_Strict):
    """One legal source of a step: document id from ``sources``, article, and a short quote or note."""

    source: Identifier
    article: str = ""
    note: str = ""


class Source(_Strict):
    id: Identifier
    title: str
    year: int | None = None


class StepField(_Strict):
    id: Identifier
    label: str
    label_en: str = ""
    type: FieldType = FieldType.TEXT
    required: bool = True
    choices: tuple[str, ...] = ()
    help: str = ""

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> StepField:
        if self.type == FieldType.CHOICE and not self.choices:
            raise ValueError(f"字段 {self.id}: 选择型字段必须列出 choices")
        if self.type != FieldType.CHOICE and self.choices:
            raise ValueError(f"字段 {self.id}: 只有选择型字段可以有 choices")
        return self


class Requirement(_Strict):
    """纪实要求: what must be put on record, how (纪实方式) and by whom (责任主体)."""

    id: Identifier
    text: str
    item: Identifier | None = None
    methods: tuple[Method, ...] = Field(min_length=1)
    responsible: tuple[Role, ...] = Field(min_length=1)


class Item(_Strict):
    """纪实项目: a piece of documentation the step must produce."""

    id: Identifier
    name: str
    name_en: str = ""
    kind: ItemKind
    archive: ArchiveStream
    required: bool = True
    # 应包含的内容: the elements the record must contain (时间、地点、参加人员、意见要点……). The step page
    # shows them next to the upload, and the reference template (参考模本) prints one row per element.
    contents: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _contents_are_named_once(self) -> Item:
        names = [c.strip() for c in self.contents]
        if any(not name for name in names):
            raise ValueError(f"纪实项目 {self.id}: 应包含的内容（contents）不能有空项")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"纪实项目 {self.id}: 应包含的内容（contents）重复：{'、'.join(duplicates)}")
        return self


class RuleWhen(StrEnum):
    START = "start"  # before the step may start (BLOCK refuses the start)
    COMPLETE = "complete"  # when the step completes (BLOCK refuses completion)
    SCAN = "scan"  # in the periodic scan (`manage.py supervise`): deadlines and time-based conditions


class Rule(_Strict):
    """A supervision rule bound to a step; ``code`` names a rule in supervision.rules (e.g. W24)."""

    code: Identifier
    when: RuleWhen = RuleWhen.COMPLETE  # not "on": YAML 1.1 reads a bare `on` key as true
    params: dict[str, Any] = Field(default_factory=dict)


class Tally(_Strict):
    kind: TallyKind
    label: str = ""


class Step(_Strict):
    id: Identifier
    name: str
    name_en: str
    scope: Scope
    prerequisites: tuple[Identifier, ...] | None = None  # None = the previous step in file order
    responsible_roles: tuple[Role, ...] = Field(min_length=1)
    signer_roles: tuple[Role, ...] = Field(min_length=1)
    signer_note: str = ""  # signatures collected on paper from people outside the system
    operation: str = ""  # 操作要求
    fields: tuple[StepField, ...] = ()
    tally: Tally | None = None
    items: tuple[Item, ...] = ()
    item_refs: tuple[Identifier, ...] = ()
    requirements: tuple[Requirement, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()
    basis: tuple[LegalBasis, ...] = Field(min_length=1)
    waivable: bool = False  # only conditional steps (e.g. 非中共党员、双重管理) may be waived
    closes_nominations: bool = False  # no nomination may be added once this step is complete


class Stage(_Strict):
    id: Identifier
    name: str
    name_en: str
    steps: tuple[Step, ...] = Field(min_length=1)


class ProcedureDefinition(_Strict):
    code: Identifier
    version: str
    name: str
    name_en: str = ""
    description: str = ""
    sources: tuple[Source, ...] = Field(min_length=1)
    stages: tuple[Stage, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()  # bound to every step (e.g. timeliness and signatures of records)

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo) -> ProcedureDefinition:
        # The loader asks to run these checks itself so it can point each error at its line.
        if info.context and info.context.get("defer_cross_references"):
            return self
        errors = cross_reference_errors(self)
        if errors:
            raise ValueError("；".join(message for _, message in errors))
        return self

    # Convenience reads used by the engine, views and the `procedure show` command.

    def steps(self) -> list[Step]:
        return [step for stage in self.stages for step in stage.steps]

    def step(self, step_id: str) -> Step:
        for step in self.steps():
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def stage_of(self, step_id: str) -> Stage:
        for stage in self.stages:
            if any(s.id == step_id for s in stage.steps):
                return stage
        raise KeyError(step_id)

    def prerequisites_of(self, step_id: str) -> tuple[str, ...]:
        ordered = self.steps()
        for index, step in enumerate(ordered):
            if step.id == step_id:
                if step.prerequisites is not None:
                    return step.prerequisites
                return (ordered[index - 1].id,) if index else ()
        raise KeyError(step_id)

    def items(self) -> list[Item]:
        return [item for step in self.steps() for item in step.items]

    def items_of(self, step_id: str) -> list[Item]:
        step = self.step(step_id)
        by_id = {item.id: item for item in self.items()}
        return list(step.items) + [by_id[ref] for ref in step.item_refs]

    def requirements(self) -> list[Requirement]:
        return [req for step in self.steps() for req in step.requirements]

    def counts(self) -> dict[str, int]:
        return {
            "stages": len(self.stages),
            "steps": len(self.steps()),
            "items": len(self.items()),
            "requirements": len(self.requirements()),
        }


Path = tuple[str | int, ...]


def cross_reference_errors(definition: ProcedureDefinition) -> list[tuple[Path, str]]:
    """Broken references between parts of a definition, each with the path of the offending node."""
    errors: list[tuple[Path, str]] = []
    source_ids = {s.id for s in definition.sources}
    seen_steps: list[str] = []
    item_ids: set[str] = set()
    req_ids: set[str] = set()
    stage_ids: set[str] = set()
    for si, stage in enumerate(definition.stages):
        if stage.id in stage_ids:
            errors.append((("stages", si, "id"), f"环节编号重复: {stage.id}"))
        stage_ids.add(stage.id)
        for ti, step in enumerate(stage.steps):
            here: Path = ("stages", si, "steps", ti)
            if step.id in seen_steps:
                errors.append(((*here, "id"), f"步骤编号重复: {step.id}"))
            for pi, pre in enumerate(step.prerequisites or ()):
                if pre not in seen_steps:
                    errors.append(((*here, "prerequisites", pi), f"步骤 {step.id} 的前置步骤 {pre} 不存在或不在它之前"))
            own_items = {i.id for i in step.items}
            for ii, item in enumerate(step.items):
                if item.id in item_ids:
                    errors.append(((*here, "items", ii, "id"), f"纪实项目编号重复: {item.id}"))
                item_ids.add(item.id)
            for ri, ref in enumerate(step.item_refs):
                if ref not in item_ids or ref in own_items:
                    errors.append(((*here, "item_refs", ri), f"步骤 {step.id} 引用的纪实项目 {ref} 未在此前步骤中定义"))
            for qi, req in enumerate(step.requirements):
                if req.id in req_ids:
                    errors.append(((*here, "requirements", qi, "id"), f"纪实要求编号重复: {req.id}"))
                req_ids.add(req.id)
                if req.item and req.item not in own_items and req.item not in step.item_refs:
                    errors.append(
                        (
                            (*here, "requirements", qi, "item"),
                            f"纪实要求 {req.id} 指向的纪实项目 {req.item} 不属于步骤 {step.id}",
                        )
                    )
            for bi, basis in enumerate(step.basis):
                if basis.source not in source_ids:
                    errors.append(
                        ((*here, "basis", bi, "source"), f"步骤 {step.id} 的依据引用了未声明的文件 {basis.source}")
                    )
            field_ids = [f.id for f in step.fields]
            if len(set(field_ids)) != len(field_ids):
                errors.append(((*here, "fields"), f"步骤 {step.id} 的字段编号重复"))
            seen_steps.append(step.id)
    errors.extend(_missing_contents_errors(definition))
    if definition.stages and definition.stages[0].steps[0].prerequisites:
        errors.append((("stages", 0, "steps", 0, "prerequisites"), "第一个步骤不能有前置步骤"))
    return errors


def _missing_contents_errors(definition: ProcedureDefinition) -> list[tuple[Path, str]]:
    """Items without ``contents`` in a definition whose other items list theirs.

    The rule is "all or none" rather than "every item" because versions stored before ``contents``
    existed are parsed again whenever a pinned batch is opened, and must keep loading; a definition that
    lists contents at all (as the standard one does) must list them for every item, or the step page and
    the reference template of the forgotten item would silently show nothing.
    """
    located = [
        (("stages", si, "steps", ti, "items", ii), item)
        for si, stage in enumerate(definition.stages)
        for ti, step in enumerate(stage.steps)
        for ii, item in enumerate(step.items)
    ]
    if not any(item.contents for _, item in located):
        return []
    return [
        (path, f"纪实项目 {item.id} 未列出应包含的内容（contents）：本流程的其他纪实项目都已列出，参考模本需要它")
        for path, item in located
        if not item.contents
    ]
