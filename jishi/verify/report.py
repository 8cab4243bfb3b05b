"""The 四性检测 report: checks grouped in the four DA/T 70-2018 categories, rendered as Chinese text or JSON.

Every finding is a ``Problem`` that names the thing at fault (a path, a 档号, an event) so an archivist can go
straight to it; a check passes exactly when it has no problems, so "could not run" is recorded as a problem too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CATEGORIES: dict[str, str] = {
    "authenticity": "真实性",
    "integrity": "完整性",
    "usability": "可用性",
    "security": "安全性",
}

# id → (category, Chinese name); the order here is the order of the report.
CHECKS: dict[str, tuple[str, str]] = {
    "A1": ("authenticity", "清单摘要核验（manifest、tagmanifest）"),
    "A2": ("authenticity", "元数据与文件内容一致（数字摘要、大小、格式）"),
    "A3": ("authenticity", "台账事件哈希重算"),
    "A4": ("authenticity", "台账事件包含证明"),
    "A5": ("authenticity", "检查点签名"),
    "A6": ("authenticity", "电子签名"),
    "A7": ("authenticity", "元数据与整理、验收签名事件一致"),
    "C1": ("integrity", "电子文件齐全"),
    "C2": ("integrity", "件号连续、档号一致"),
    "C3": ("integrity", "必备纪实项目齐全"),
    "C4": ("integrity", "台账事件齐全"),
    "C5": ("integrity", "必备元数据项"),
    "U1": ("usability", "元数据与台账文件可读"),
    "U2": ("usability", "文件可按其格式打开"),
    "U3": ("usability", "归档格式"),
    "S1": ("security", "路径安全"),
    "S2": ("security", "仅含普通文件（无符号链接、硬链接、设备文件）"),
    "S3": ("security", "无可执行文件"),
    "S4": ("security", "大小与数量限制"),
    "S5": ("security", "无清单外文件、无未知标签文件"),
}

# A hostile package could produce millions of findings; the report keeps the first ones and counts the rest.
MAX_PROBLEMS_PER_CHECK = 500


@dataclass(frozen=True)
class Problem:
    item: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "message": self.message}


@dataclass
class Check:
    id: str
    name: str
    category: str
    problems: list[Problem] = field(default_factory=list)
    omitted: int = 0

    @property
    def passed(self) -> bool:
        return not self.problems

    def add(self, item: str, message: str) -> None:
        problem = Problem(item, message)
        if problem in self.problems:
            return
        if len(self.problems) >= MAX_PROBLEMS_PER_CHECK:
            self.omitted += 1
            return
        self.problems.append(problem)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "passed": self.passed,
            "problems": [p.to_dict() for p in self.problems],
            "omitted_problems": self.omitted,
        }


@dataclass
class Report:
    """Findings of one run; ``is_package`` False means the path was not a package at all (exit 3)."""

    path: str
    is_package: bool = True
    reason: str = ""
    volumes: list[str] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for check_id, (category, name) in CHECKS.items():
            self.checks.setdefault(check_id, Check(check_id, name, category))

    def add(self, check_id: str, item: str, message: str) -> None:
        self.checks[check_id].add(item, message)

    def cannot_run(self, check_ids: tuple[str, ...] | list[str], why: str) -> None:
        """Dependent checks must not pass silently when their input is unreadable."""
        for check_id in check_ids:
            self.add(check_id, "（整个信息包）", f"无法核验：{why}")

    def category_checks(self, category: str) -> list[Check]:
        return [c for c in self.checks.values() if c.category == category]

    def category_passed(self, category: str) -> bool:
        return all(c.passed for c in self.category_checks(category))

    @property
    def passed(self) -> bool:
        return self.is_package and all(c.passed for c in self.checks.values())

    @property
    def exit_code(self) -> int:
        if not self.is_package:
            return 3
        return 0 if self.passed else 1

    def failed_check_ids(self) -> list[str]:
        return [c.id for c in self.checks.values() if not c.passed]

    def problems(self, check_id: str) -> list[Problem]:
        return list(self.checks[check_id].problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "is_package": self.is_package,
            "reason": self.reason,
            "volumes": list(self.volumes),
            "passed": self.passed,
            "categories": {
                key: {
                    "label": label,
                    "passed": self.is_package and self.category_passed(key),
                    "checks": [c.to_dict() for c in self.category_checks(key)] if self.is_package else [],
                }
                for key, label in CATEGORIES.items()
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        lines = ["归档信息包四性检测（DA/T 70-2018）", f"信息包：{self.path}"]
        if not self.is_package:
            lines.append(f"不是归档信息包：{self.reason}")
            return "\n".join(lines) + "\n"
        lines.append(f"案卷：{'、'.join(self.volumes) if self.volumes else '（未能读出）'}")
        for key, label in CATEGORIES.items():
            lines.append("")
            lines.append(f"{'✔' if self.category_passed(key) else '✘'} {label}")
            for check in self.category_checks(key):
                lines.append(f"  {'✔' if check.passed else '✘'} {check.id} {check.name}")
                lines.extend(f"      - {p.item}：{p.message}" for p in check.problems)
                if check.omitted:
                    lines.append(f"      - ……另有 {check.omitted} 个问题未列出")
        lines.append("")
        if self.passed:
            lines.append("四性检测通过")
        else:
            failed = [
                f"{label}（{'、'.join(c.id for c in self.category_checks(key) if not c.passed)}）"
                for key, label in CATEGORIES.items()
                if not self.category_passed(key)
            ]
            lines.append(f"四性检测未通过：{'；'.join(failed)}")
        return "\n".join(lines) + "\n"
