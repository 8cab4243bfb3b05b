"""Walk the package tree without following links and record what is really on disk (S1, S2, S4 findings).

The walk is iterative, never follows symbolic links, stops at the file-count limit and records each entry's
kind, so later checks can rely on the inventory instead of touching the file system again.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from .files import Limits, path_problem, printable
from .report import Report

MAX_DEPTH = 32


@dataclass(frozen=True)
class Entry:
    path: str  # relative, "/"-separated
    kind: str  # "file" | "dir" | "symlink" | "special"
    size: int = 0
    links: int = 1


@dataclass
class Inventory:
    files: dict[str, Entry]  # regular files only
    others: dict[str, Entry]  # directories, links, devices …
    truncated: bool = False

    def payload_files(self) -> list[str]:
        return sorted(p for p in self.files if p.startswith("data/"))

    def payload_octets(self) -> tuple[int, int]:
        paths = self.payload_files()
        return sum(self.files[p].size for p in paths), len(paths)


def scan(root: str, limits: Limits, report: Report) -> Inventory:
    """Everything under ``root`` by kind; problems with names, links, special files and sizes go to the report."""
    inventory = Inventory(files={}, others={})
    total = 0
    stack: list[tuple[str, int]] = [("", 0)]
    count = 0
    while stack:
        prefix, depth = stack.pop()
        try:
            entries: list[os.DirEntry[str]] = []
            with os.scandir(os.path.join(root, prefix) if prefix else root) as it:
                for found in it:  # a directory with millions of entries must not be read in full
                    entries.append(found)
                    if count + len(entries) > limits.max_files:
                        break
            entries.sort(key=lambda e: e.name)
        except OSError as exc:
            report.add("U1", prefix or ".", f"目录无法读取：{exc.strerror or exc}")
            continue
        for entry in entries:
            count += 1
            if count > limits.max_files:
                report.add("S4", "（整个信息包）", f"文件数超过上限 {limits.max_files}，其余文件未检查")
                inventory.truncated = True
                return inventory
            rel = f"{prefix}/{entry.name}" if prefix else entry.name
            shown = printable(rel)
            problem = path_problem(entry.name) if entry.name not in ("", ".", "..") else "文件名非法"
            if problem:
                report.add("S1", shown, f"磁盘上的文件名不安全：{problem}")
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                report.add("U1", shown, f"无法读取文件信息：{exc.strerror or exc}")
                continue
            if stat.S_ISLNK(st.st_mode):
                inventory.others[rel] = Entry(rel, "symlink")
                report.add("S2", shown, "是符号链接（不跟随）")
            elif stat.S_ISDIR(st.st_mode):
                inventory.others[rel] = Entry(rel, "dir")
                if depth + 1 >= MAX_DEPTH:
                    report.add("S1", shown, f"目录层级超过 {MAX_DEPTH} 层，未继续检查")
                else:
                    stack.append((rel, depth + 1))
            elif stat.S_ISREG(st.st_mode):
                entry_info = Entry(rel, "file", st.st_size, st.st_nlink)
                if problem is None:
                    inventory.files[rel] = entry_info
                else:
                    inventory.others[rel] = entry_info
                if st.st_nlink > 1:
                    report.add("S2", shown, f"是硬链接（链接数 {st.st_nlink}）")
                if st.st_size > limits.max_file_bytes:
                    report.add("S4", shown, f"文件大小 {st.st_size} 字节，超过单文件上限 {limits.max_file_bytes}")
                total += st.st_size
            else:
                inventory.others[rel] = Entry(rel, "special")
                report.add("S2", shown, "是设备文件、命名管道或套接字")
    if total > limits.max_total_bytes:
        report.add("S4", "（整个信息包）", f"总大小 {total} 字节，超过上限 {limits.max_total_bytes}")
    return inventory
