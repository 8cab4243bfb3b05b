"""Load and validate procedure definition files — pure, no Django.

Errors carry the line number of the offending YAML node so ``procedure check`` can point a
maintainer at the exact place (pydantic's error paths are mapped back through the YAML node tree).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .schema import ProcedureDefinition, cross_reference_errors

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"


@dataclass(frozen=True)
class DefinitionError:
    line: int | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else "文件"
        return f"{where}（{self.location or '根'}）：{self.message}"


class DefinitionInvalid(Exception):
    def __init__(self, errors: list[DefinitionError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class LoadedDefinition:
    definition: ProcedureDefinition
    source: str
    sha256: str


def _node_line(root: yaml.Node | None, path: tuple[int | str, ...]) -> int | None:
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            match = node.value[key]
        else:
            match = None
        if match is None:
            break
        node = match
        line = node.start_mark.line + 1
    return line


_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "enum": "取值不在允许范围内",
    "string_pattern_mismatch": "编号只能由字母、数字、下划线和连字符组成，且以字母开头",
    "too_short": "至少需要一项",
}


# libyaml when PyYAML was built with it: the pure-Python loader takes over a second for the standard file.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=16)
def parse_text(text: str) -> LoadedDefinition:
    """Parse and validate a definition; the result is immutable, so the same text is parsed once."""
    try:
        data: Any = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DefinitionInvalid([DefinitionError(line, "", f"YAML 格式错误：{exc}")]) from exc
    if not isinstance(data, dict):
        raise DefinitionInvalid([DefinitionError(1, "", "文件内容必须是一个映射（键: 值）")])
    try:
        definition = ProcedureDefinition.model_validate(data, context={"defer_cross_references": True})
    except ValidationError as exc:
        root = yaml.compose(text, Loader=_LOADER)  # node marks give each error its line
        raw = exc.errors()
        # A list whose only item was invalid also reports "too short"; the item's own error says it all.
        locs = [tuple(e["loc"]) for e in raw]
        errors = []
        for err in raw:
            path = tuple(err["loc"])
            if err["type"] == "too_short" and any(len(o) > len(path) and o[: len(path)] == path for o in locs):
                continue
            message = _MESSAGES.get(err["type"], err["msg"])
            if err["type"] == "value_error":
                message = str(err["ctx"].get("error", err["msg"])) if "ctx" in err else err["msg"]
            errors.append(DefinitionError(_node_line(root, path), ".".join(str(p) for p in path), message))
        raise DefinitionInvalid(errors) from exc
    broken = cross_reference_errors(definition)
    if broken:
        root = yaml.compose(text, Loader=_LOADER)
        raise DefinitionInvalid(
            [DefinitionError(_node_line(root, path), ".".join(str(p) for p in path), msg) for path, msg in broken]
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedDefinition(definition=definition, source=text, sha256=digest)


def load_file(path: Path) -> LoadedDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionInvalid([DefinitionError(None, str(path), f"无法读取文件：{exc}")]) from exc
    return parse_text(text)


def bundled_path(code: str) -> Path:
    return DEFINITIONS_DIR / f"{code}.yaml"
