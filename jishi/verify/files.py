"""Safe file access inside a package: path validation, no-follow opening, bounded reads and streamed hashing.

A package comes from outside and may be hostile. Nothing here follows a symbolic link: a name taken from a
manifest or from metadata.xml is validated as a plain relative path first, then opened one directory at a
time with ``O_NOFOLLOW`` relative to the package, so it cannot resolve outside the package whatever is on disk.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1024 * 1024
GIB = 1024**3
MIB = 1024**2
HEX_DIGITS = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one run; defaults suit a large personal or batch file with scanned materials."""

    max_file_bytes: int = 2 * GIB
    max_total_bytes: int = 50 * GIB
    max_files: int = 200_000
    max_metadata_bytes: int = 64 * MIB


class UnsafePath(Exception):
    """A path that must not be opened; the message (Chinese) says why."""


def path_problem(rel: str) -> str | None:
    """Why ``rel`` is not a safe package-relative path (``None`` when it is)."""
    if not rel:
        return "路径为空"
    if "\x00" in rel:
        return "路径含 NUL 字符"
    if "\\" in rel:
        return "路径含反斜杠"
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return "路径是绝对路径"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in rel):
        return "路径含控制字符"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in rel):
        return "路径不是有效的 UTF-8"
    parts = rel.split("/")
    if ".." in parts:
        return "路径含 .. 段，指向信息包之外"
    if any(part in ("", ".") for part in parts):
        return "路径含空段或 . 段"
    return None


def printable(rel: str) -> str:
    """A name fit for a report: undecodable bytes and control characters shown as escapes."""
    text = rel.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(ch if ord(ch) >= 32 and ord(ch) != 127 else f"\\x{ord(ch):02x}" for ch in text)


def is_hex_digest(value: object, length: int = 64) -> bool:
    return isinstance(value, str) and len(value) == length and set(value) <= HEX_DIGITS


def open_regular(root: str, rel: str) -> BinaryIO:
    """Open ``root/rel`` for reading, refusing unsafe paths, symbolic links and anything but a regular file.

    Raises ``UnsafePath`` for what the package did wrong and ``OSError`` (e.g. ``FileNotFoundError``) otherwise.
    """
    problem = path_problem(rel)
    if problem:
        raise UnsafePath(problem)
    parts = rel.split("/")
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    directory_flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | nofollow | getattr(os, "O_CLOEXEC", 0)
    file_flags = os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    file_flags |= getattr(os, "O_BINARY", 0)
    if os.open not in os.supports_dir_fd:  # pragma: no cover - non-POSIX fallback
        return _open_by_lstat(root, parts, file_flags)
    fd = os.open(root, directory_flags)
    try:
        for part in parts[:-1]:
            try:
                next_fd = os.open(part, directory_flags, dir_fd=fd)
            except OSError as exc:
                if _is_link(fd, part):
                    raise UnsafePath(f"路径中的 {part} 是符号链接") from exc
                raise
            os.close(fd)
            fd = next_fd
        try:
            file_fd = os.open(parts[-1], file_flags, dir_fd=fd)
        except OSError as exc:
            if _is_link(fd, parts[-1]):
                raise UnsafePath("是符号链接") from exc
            raise
    finally:
        os.close(fd)
    return _regular(file_fd)


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_by_lstat(root: str, parts: list[str], flags: int) -> BinaryIO:  # pragma: no cover - non-POSIX
    current = root
    for part in parts[:-1]:
        current = os.path.join(current, part)
        if not stat.S_ISDIR(os.lstat(current).st_mode):
            raise UnsafePath(f"路径中的 {part} 不是目录")
    path = os.path.join(current, parts[-1])
    if stat.S_ISLNK(os.lstat(path).st_mode):
        raise UnsafePath("是符号链接")
    return _regular(os.open(path, flags))


def _regular(fd: int) -> BinaryIO:
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath("不是普通文件")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_bounded(root: str, rel: str, limit: int) -> bytes:
    """The whole file, or ``UnsafePath`` when it is larger than ``limit`` (checked before and while reading)."""
    with open_regular(root, rel) as fh:
        if os.fstat(fh.fileno()).st_size > limit:
            raise UnsafePath(f"文件超过 {limit} 字节的读取上限")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UnsafePath(f"文件超过 {limit} 字节的读取上限")
    return data


def read_head(root: str, rel: str, size: int = 16) -> bytes:
    with open_regular(root, rel) as fh:
        return fh.read(size)


def hash_file(root: str, rel: str, algorithms: Iterable[str], limit: int) -> dict[str, str]:
    """Hex digests of one file for every algorithm in a single streamed pass (1 MiB chunks)."""
    hashers = {name: hashlib.new(name) for name in sorted(set(algorithms))}
    total = 0
    with open_regular(root, rel) as fh:
        while chunk := fh.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise UnsafePath(f"文件超过 {limit} 字节的单文件上限")
            for h in hashers.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashers.items()}


class Digests:
    """Per-file digest cache, so each file is read once for all the algorithms the package needs."""

    def __init__(self, root: str, algorithms: Iterable[str], limit: int) -> None:
        self.root = root
        self.algorithms = set(algorithms)
        self.limit = limit
        self._cache: dict[str, dict[str, str] | str] = {}

    def get(self, rel: str) -> dict[str, str] | str:
        """The digests of ``rel``, or a Chinese message saying why it could not be hashed."""
        if rel not in self._cache:
            try:
                self._cache[rel] = hash_file(self.root, rel, self.algorithms, self.limit)
            except FileNotFoundError:
                self._cache[rel] = "文件不存在"
            except UnsafePath as exc:
                self._cache[rel] = f"未读取：{exc}"
            except OSError as exc:
                self._cache[rel] = f"无法读取：{exc.strerror or exc}"
            except ValueError:  # hashlib without SM3 (an OpenSSL built without it)
                self._cache[rel] = f"本机 hashlib 不支持 {'、'.join(sorted(self.algorithms))} 中的算法"
        return self._cache[rel]
