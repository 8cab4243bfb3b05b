"""manage.py procedure check FILE | show [CODE] | load [CODE|FILE]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jishi.core.roles import ROLE_LABELS
from jishi.procedures.loader import DefinitionInvalid, LoadedDefinition, bundled_path, load_file
from jishi.procedures.models import ProcedureVersion
from jishi.procedures.schema import ProcedureDefinition
from jishi.procedures.services import procedure_version_register
from jishi.supervision.rules import REGISTRY as RULES

SCOPE_LABEL = {"batch": "批次", "nomination": "人选"}


class Command(BaseCommand):
    help = "校验、查看、载入干部选拔任用流程定义文件（YAML）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="校验一个流程定义文件，错误带行号")
        check.add_argument("file")
        show = sub.add_parser("show", help="显示流程的统计数字（环节、步骤、纪实项目、纪实要求）和结构树")
        show.add_argument("code", nargs="?", default="standard")
        show.add_argument("--counts-only", action="store_true", help="只显示统计数字")
        load = sub.add_parser("load", help="载入流程定义（内置代码或文件路径）；同一内容重复载入不会重复保存")
        load.add_argument("source", nargs="?", default="standard")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "check":
            loaded = self._load(Path(options["file"]))
            self.stdout.write(self.style.SUCCESS(f"校验通过：{self._summary(loaded.definition)}"))
        elif action == "show":
            definition = self._definition_for_show(options["code"])
            self.stdout.write(f"{definition.name}（{definition.code} {definition.version}）")
            self.stdout.write(self._summary(definition))
            if not options["counts_only"]:
                self._tree(definition)
        elif action == "load":
            source = options["source"]
            path = Path(source) if source.endswith((".yaml", ".yml")) else bundled_path(source)
            version, created = procedure_version_register(loaded=self._load(path), actor=None)
            verb = "已载入" if created else "已是最新，无需重复载入"
            self.stdout.write(self.style.SUCCESS(f"{verb}：{version}（sha256 {version.sha256[:12]}…）"))

    def _load(self, path: Path) -> LoadedDefinition:
        try:
            loaded = load_file(path)
        except DefinitionInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{path}: {error}")
            raise CommandError(f"流程定义文件有 {len(exc.errors)} 处错误") from exc
        unknown = [
            f"{step.id}: {rule.code}"
            for step in loaded.definition.steps()
            for rule in step.rules
            if rule.code not in RULES
        ] + [f"（全局）: {rule.code}" for rule in loaded.definition.rules if rule.code not in RULES]
        if unknown:
            for entry in unknown:
                self.stderr.write(f"{path}: 步骤 {entry} 引用了系统中不存在的规则")
            raise CommandError(f"流程定义文件有 {len(unknown)} 处错误")
        return loaded

    def _definition_for_show(self, code: str) -> ProcedureDefinition:
        stored = ProcedureVersion.objects.filter(code=code).order_by("-loaded_at", "-pk").first()
        if stored:
            return stored.definition
        path = bundled_path(code)
        if not path.exists():
            raise CommandError(f"找不到流程“{code}”：既未载入数据库，也没有内置文件 {path.name}")
        return self._load(path).definition

    @staticmethod
    def _summary(definition: ProcedureDefinition) -> str:
        c = definition.counts()
        return (
            f"{c['stages']} 个环节（stages），{c['steps']} 个操作步骤（steps），"
            f"{c['items']} 个纪实项目（items），{c['requirements']} 条纪实要求（requirements）"
        )

    def _tree(self, definition: ProcedureDefinition) -> None:
        for stage in definition.stages:
            self.stdout.write(f"■ {stage.name}（{len(stage.steps)} 步）")
            for step in stage.steps:
                signers = "、".join(ROLE_LABELS[r] for r in step.signer_roles)
                self.stdout.write(f"  {step.id} {step.name} [{SCOPE_LABEL[step.scope]}] 签字：{signers}")
                for item in definition.items_of(step.id):
                    self.stdout.write(f"      · 纪实项目 {item.id} {item.name}")
