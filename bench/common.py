"""Shared helpers for the benchmarks: sizes, result files, tables, memory readings and realistic payloads."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUICK_FACTOR = 100


def quick() -> bool:
    return os.environ.get("BENCH_QUICK", "").strip().lower() in ("1", "true", "yes", "on")


def default_size(env: str, full: int, *, minimum: int = 1) -> int:
    """``env`` if set, else ``full`` (divided by 100 under ``BENCH_QUICK=1``)."""
    value = os.environ.get(env, "").strip()
    if value:
        try:
            return int(value.replace("_", ""))
        except ValueError:
            sys.exit(f"{env} must be an integer, got {value!r}")
    return max(minimum, full // QUICK_FACTOR) if quick() else full


def positive_int(text: str) -> int:
    value = int(text.replace("_", ""))
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def out_dir() -> Path:
    base = Path(os.environ.get("JISHI_VAR_DIR") or ROOT / "var")
    path = base / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),  # UTC: Django sets TZ to Asia/Shanghai
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "quick": quick(),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    path = out_dir() / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **data}
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# Tables ----------------------------------------------------------------------------------------------


_NUMBER = re.compile(r"|[-+]?[\d,]*\.?\d+ ?(x|%|ms|s|MiB)?")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> str:
    """A plain-text table; numeric columns are right-aligned, CJK characters count as two columns."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [bool(cells) and all(_NUMBER.fullmatch(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(_pad(h, w, n) for h, w, n in zip(headers, widths, numeric, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(_pad(c, w, n) for c, w, n in zip(row, widths, numeric, strict=True)).rstrip())
    return "\n".join(lines)


def num(value: float, digits: int = 0) -> str:
    """Thousands separators: 123,456 or 1,234.5."""
    return f"{value:,.{digits}f}"


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), -(-len(sorted_values) * p // 100)))
    return sorted_values[int(rank) - 1]


# Memory ----------------------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far.

    Linux: ``VmHWM``, the high-water mark of this address space. Not ``ru_maxrss``: it survives ``exec``, so a
    ``spawn`` worker reported the size of the parent it was forked from (385 MiB for a verifier using 91).
    Elsewhere ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    hwm = _proc_status_mib("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def memory_reading() -> dict[str, float | None]:
    """Peak and current RSS in MiB, rounded to 0.01."""
    current = current_rss_mib()
    return {"peak_rss_mib": round(peak_rss_mib(), 2), "rss_mib": round(current, 2) if current is not None else None}


def current_rss_mib() -> float | None:
    return _proc_status_mib("VmRSS")


def _proc_status_mib(field: str) -> float | None:
    """A kB field of /proc/self/status in MiB (None where there is no /proc)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# Realistic event contents ----------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "桂英", "建国", "志远", "晓红", "海燕", "文博", "俊杰", "思远"]  # fmt: skip
UNITS = ["内江市委组织部", "威远县委组织部", "资中县委组织部", "隆昌市委组织部", "内江市发展和改革委员会",
         "内江市财政局", "内江市教育局", "内江市自然资源和规划局", "东兴区人民政府", "市中区委宣传部"]  # fmt: skip
POSITIONS = ["办公室主任", "副局长", "副主任", "党组成员、副局长", "科长", "副县长（挂职）", "乡党委书记",
             "街道办事处主任", "四级调研员", "二级主任科员"]  # fmt: skip
STEPS = [("动议", "分析研判"), ("动议", "提出初步建议"), ("民主推荐", "会议推荐"), ("民主推荐", "谈话调研推荐"),
         ("考察", "考察预告"), ("考察", "个别谈话"), ("考察", "征求纪检监察机关意见"), ("酝酿", "沟通酝酿"),
         ("讨论决定", "常委会讨论"), ("任用", "任前公示"), ("任用", "任职谈话")]  # fmt: skip
OPINIONS = ["同意", "同意，建议进一步了解其分管工作情况", "原则同意，请按程序办理", "无不同意见",
            "该同志政治素质好，工作实绩突出，群众基础较好", "建议按照干部选拔任用工作条例规定继续履行程序"]  # fmt: skip
ROLES = ["经办人", "干部科长", "考察组长", "部领导", "纪检监察"]
MATERIALS = ["民主推荐会议记录.pdf", "考察材料.docx", "个人有关事项报告查核结果.pdf", "干部任免审批表.pdf",
             "廉政意见回复函.pdf", "任前公示情况报告.docx"]  # fmt: skip


def person(rng: random.Random) -> tuple[str, str]:
    """(full name, username)."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    return name, f"u{rng.randrange(100_000):05d}"


def event_content(rng: random.Random, seq: int) -> tuple[str, str, str, dict[str, Any]]:
    """(action, subject_type, subject_id, payload) — about 300 bytes of canonical Chinese JSON on average."""
    batch = f"J001-2026-{rng.randrange(1, 60):03d}"
    stage, step = rng.choice(STEPS)
    kind = seq % 5
    if kind == 0:
        name, _ = person(rng)
        return (
            "nomination.add",
            "nomination",
            str(seq),
            {
                "batch": batch,
                "cadre": {"name": name, "unit": rng.choice(UNITS), "current_position": rng.choice(POSITIONS)},
                "position": rng.choice(UNITS) + rng.choice(POSITIONS),
                "reason": "职位空缺，经分析研判和动议程序提出人选，符合任职资格条件",
                "org_unit": rng.choice(UNITS),
                "ordinal": rng.randrange(1, 9),
            },
        )
    if kind == 1:
        return (
            "step.complete",
            "step",
            f"{batch}/{rng.randrange(1, 45)}",
            {
                "batch": batch,
                "stage": stage,
                "step": step,
                "participants": rng.randrange(20, 120),
                "summary": f"按规定程序完成{step}，参加人员{rng.randrange(20, 120)}人，过程规范，结果如实记录。",
                "note": rng.choice(OPINIONS),
                "org_unit": rng.choice(UNITS),
            },
        )
    if kind == 2:
        return (
            "material.register",
            "material",
            f"{batch}/{seq}",
            {
                "batch": batch,
                "step": step,
                "name": rng.choice(MATERIALS),
                "sha256": rng.randbytes(32).hex(),
                "size": rng.randrange(10_000, 5_000_000),
                "kind": "纪实材料",
                "description": f"{stage}阶段{step}环节形成的原始材料，经办人核对无误后登记",
                "org_unit": rng.choice(UNITS),
            },
        )
    if kind == 3:
        name, _ = person(rng)
        return (
            "opinion.add",
            "step",
            f"{batch}/{rng.randrange(1, 45)}",
            {
                "batch": batch,
                "stage": stage,
                "step": step,
                "role": rng.choice(ROLES),
                "reviewer": name,
                "opinion": rng.choice(OPINIONS),
                "content_hash": rng.randbytes(16).hex(),
                "statement": "本人已审核本环节纪实内容，确认真实、准确、完整",
            },
        )
    name, _ = person(rng)
    return (
        "note.add",
        "note",
        f"{batch}/{seq}",
        {
            "batch": batch,
            "stage": stage,
            "step": step,
            "author": name,
            "text": f"{rng.choice(UNITS)}{rng.choice(POSITIONS)}{name}同志：{rng.choice(OPINIONS)}。"
            f"谈话{rng.randrange(10, 60)}人次，{rng.choice(OPINIONS)}。",
            "org_unit": rng.choice(UNITS),
        },
    )
