"""Command line: ``python -m jishi.verify PACKAGE [--json] [--max-file-size 2G] …``.

Exit status: 0 when all four categories pass, 1 when any check fails, 3 when PACKAGE is not a package at all
(2 is argparse's usage error).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from jishi.ledger.verify import Witness

from .core import verify_package
from .files import Limits

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = re.compile(r"^(\d{1,15})\s*([KMGT]?)(?:I?B)?$", re.IGNORECASE)


def size(text: str) -> int:
    """``123``, ``64M``, ``2G``, ``50GiB`` → bytes (binary units)."""
    match = _SIZE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"无法识别的大小：{text}（例如 64M、2G）")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def positive(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数：{text}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="python -m jishi.verify",
        description="归档信息包四性检测（DA/T 70-2018：真实性、完整性、可用性、安全性），不需要服务器和数据库",
    )
    parser.add_argument("package", help="manage.py archive export 生成的信息包目录")
    parser.add_argument("--json", action="store_true", help="输出机器可读的 JSON 报告")
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        help="外部保存的检查点文件（manage.py ledger checkpoint --export），核对单位系统公钥；可多次给出",
    )
    parser.add_argument(
        "--max-file-size", type=size, default=defaults.max_file_bytes, help="单个文件大小上限（默认 2G）"
    )
    parser.add_argument(
        "--max-total-size", type=size, default=defaults.max_total_bytes, help="信息包总大小上限（默认 50G）"
    )
    parser.add_argument("--max-files", type=positive, default=defaults.max_files, help="文件数上限（默认 200000）")
    parser.add_argument(
        "--max-metadata-size",
        type=size,
        default=defaults.max_metadata_bytes,
        help="metadata.xml 上限（默认 64M）",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    limits = Limits(
        max_file_bytes=args.max_file_size,
        max_total_bytes=args.max_total_size,
        max_files=args.max_files,
        max_metadata_bytes=args.max_metadata_size,
    )
    try:
        witnesses = tuple(Witness.from_text(Path(w).read_text(encoding="utf-8")) for w in args.witness)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"无法读取见证检查点：{exc}\n")
        return 3
    report = verify_package(args.package, limits, witnesses)
    sys.stdout.write(report.to_json() + "\n" if args.json else report.to_text())
    sys.stdout.flush()
    return report.exit_code
