#!/usr/bin/env python3
"""Build the offline installation bundle: one tar.gz an IT office carries to an intranet server (issue #10).

The server reaches no package registry, so the bundle holds a wheel of every runtime dependency, resolved here
and then downloaded for the *server's* baseline (manylinux_<glibc>): pip left to itself picks the newest tag
this machine's glibc allows (cryptography's manylinux_2_34), which a Kylin, UOS or openEuler server with
glibc 2.28 cannot load. Packages published only as source (bagit) are built into wheels here. The wheelhouse
is then resolved again with no index at all; the bundle is refused unless that succeeds, so an install that
starts can finish. Stdlib only: it runs before any venv exists.

    python3.11 deploy/make_bundle.py [--python python3.11] [-o dist/] [--glibc 2.28] [--include-untracked]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
# Same order as jishi/documents/fonts.py SYSTEM_FONTS: (path, subfont index).
FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
)
# Settings that would let another index or a stale local wheel stand in for the wheelhouse while checking it.
PIP_LEAKS = ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_NO_INDEX")


class Refused(Exception):
    """The bundle cannot be made complete; the message says why, in the operators' language."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        noise = ("is ignored", "ERROR: Ignored the following versions")  # this machine's pip.conf; Requires-Python
        detail = "\n".join(line for line in result.stderr.splitlines() if not any(n in line for n in noise))
        raise Refused(f"{what}失败：\n{detail.strip() or result.stdout.strip()}")
    return result.stdout


def target(python: str) -> dict[str, str]:
    probe = "import json, platform, sys; print(json.dumps([sys.platform, platform.machine(), *sys.version_info[:2]]))"
    system, machine, major, minor = json.loads(run([python, "-c", probe], f"运行 {python} "))
    if system != "linux":
        raise Refused(f"只能为 Linux 服务器打包（{python} 运行在 {system}）")
    return {"python": f"{major}.{minor}", "tag": f"{major}{minor}", "arch": machine}


def version() -> str:
    match = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    if not match:
        raise Refused("pyproject.toml 中没有 version")
    return match.group(1)


def copy_source(app: Path, include_untracked: bool, skip: Path) -> int:
    """Only what git knows: never var/ (data, secrets), .venv or caches, whatever lies in the work tree."""
    cmd = ["git", "ls-files", "-z", "--cached"] + (["--others", "--exclude-standard"] if include_untracked else [])
    names = sorted(set(run(cmd, "列出源代码文件").split("\0")) - {""})
    copied = 0
    for name in names:
        source = ROOT / name
        if skip in source.parents or name.startswith("dist/"):
            continue
        if not source.is_file():
            print(f"    跳过工作区中已删除的文件：{name}")
            continue
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, app / name)
        copied += 1
    if not list(app.glob("jishi/locale/*/LC_MESSAGES/*.mo")):
        raise Refused("源代码中没有编译好的翻译目录（jishi/locale/*/LC_MESSAGES/*.mo）")
    return copied


def pip_tags(info: dict[str, str], glibc: str) -> list[str]:
    """pip's --platform takes each tag literally, so name every manylinux level the server's glibc can load,
    newest first (pip prefers earlier ones), with the legacy aliases old wheels still carry."""
    arch, newest = info["arch"], int(glibc.split(".")[1])
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    platforms: list[str] = []
    for minor in range(newest, 4, -1):
        platforms.append(f"manylinux_2_{minor}_{arch}")
        if minor in legacy:
            platforms.append(f"{legacy[minor]}_{arch}")
    tags = [arg for platform in platforms for arg in ("--platform", platform)]
    return [*tags, "--python-version", info["python"], "--implementation", "cp", "--abi", f"cp{info['tag']}"]


def build_wheelhouse(python: str, requirements: Path, wheelhouse: Path, tags: list[str], work: Path) -> None:
    say("解析依赖（requirements.txt 及其全部传递依赖）")
    report = work / "report.json"
    pip = [python, "-m", "pip"]
    resolve = [*pip, "install", "--dry-run", "--ignore-installed", "--prefer-binary", "--quiet"]
    run([*resolve, "--report", str(report), "-r", str(requirements)], "解析依赖")
    wheels: list[str] = []
    sources: list[str] = []
    for item in json.loads(report.read_text())["install"]:
        pin = f"{item['metadata']['name']}=={item['metadata']['version']}"
        if "archive_info" not in item["download_info"]:
            raise Refused(f"{pin} 来自目录或版本库，不能放入离线安装包")
        (wheels if item["download_info"]["url"].endswith(".whl") else sources).append(pin)
    say(f"下载 {len(wheels)} 个预编译包（{tags[1]}）")
    run(
        [*pip, "download", "--no-deps", "--only-binary=:all:", *tags, "-d", str(wheelhouse), *wheels],
        f"下载适用于 {tags[1]} 的预编译包（没有时可换用该包的旧版本，或在确认服务器 glibc 更新时提高 --glibc）",
    )
    if sources:
        say(f"为只发布源码的 {len(sources)} 个包构建 wheel：{', '.join(sources)}")
        run([*pip, "wheel", "--no-deps", "-w", str(wheelhouse), *sources], "构建 wheel")
        for built in wheelhouse.glob("*.whl"):
            if not built.name.endswith("-none-any.whl") and "manylinux" not in built.name:
                print(f"    注意：{built.name} 在本机编译，服务器的 glibc 不应低于本机。")
    say("核验依赖包完整：只用 wheelhouse、不连任何索引，重新解析一遍")
    isolated = {k: v for k, v in os.environ.items() if k not in PIP_LEAKS} | {"PIP_CONFIG_FILE": os.devnull}
    offline = [*pip, "download", "--no-index", "--find-links", str(wheelhouse), "--only-binary=:all:", *tags]
    run([*offline, "-d", str(wheelhouse), "-r", str(requirements)], "依赖包不完整，拒绝打包。离线解析", env=isolated)
    strays = [p.name for p in wheelhouse.iterdir() if not p.name.endswith(".whl")]
    if strays:
        raise Refused(f"wheelhouse 中有非 wheel 文件：{', '.join(strays)}")


def add_font(stage: Path, choice: str) -> str:
    """A CJK font for PDFs when this machine has one; the installer points JISHI_PDF_FONT at it."""
    candidates = [(choice.partition("#")[0], int(choice.partition("#")[2] or 0))] if choice else list(FONTS)
    for path, index in candidates:
        if Path(path).is_file():
            (stage / "fonts").mkdir()
            shutil.copy2(path, stage / "fonts" / Path(path).name)
            package = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True).stdout
            copyright = Path(f"/usr/share/doc/{package.partition(':')[0]}/copyright")
            if package and copyright.is_file():  # the font's licence travels with it
                shutil.copy2(copyright, stage / "fonts" / f"{Path(path).name}.copyright")
            say(f"加入中文字体 {path}#{index}")
            return f"fonts/{Path(path).name}#{index}"
    print("    本机没有中文字体：服务器需自备（fonts-wqy-microhei），否则生成 PDF 时会报错。")
    return ""


def checksums(stage: Path) -> None:
    lines = []
    for path in sorted(p for p in stage.rglob("*") if p.is_file()):
        name = path.relative_to(stage).as_posix()
        if "\n" in name or "\\" in name:
            raise Refused(f"文件名不能含换行或反斜杠：{name!r}")
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}\n")
    (stage / "SHA256SUMS").write_text("".join(lines))
    say(f"写入 SHA256SUMS（{len(lines)} 个文件）")


def build(args: argparse.Namespace) -> Path:
    info = target(args.python)
    tags = pip_tags(info, args.glibc)
    name = f"jishi-{version()}-py{info['tag']}-{tags[1]}"
    out = Path(args.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bundle-", dir=out) as tmp:
        stage = Path(tmp) / name
        say(f"打包 {name}（Python {info['python']}，{info['arch']}，glibc ≥ {args.glibc}）")
        count = copy_source(stage / "app", args.include_untracked, out)
        say(f"复制源代码：{count} 个文件")
        build_wheelhouse(args.python, stage / "app" / "requirements.txt", stage / "wheelhouse", tags, Path(tmp))
        say(f"wheelhouse：{len(list((stage / 'wheelhouse').glob('*.whl')))} 个 wheel")
        font = add_font(stage, args.font)
        shutil.copy2(HERE / "install.sh", stage / "install.sh")
        (stage / "install.sh").chmod(0o755)
        shutil.copy2(HERE / "README-install.txt", stage / "README-install.txt")
        commit = run(["git", "rev-parse", "HEAD"], "读取提交号").strip()
        dirty = "yes" if run(["git", "status", "--porcelain", "--untracked-files=no"], "检查工作区").strip() else "no"
        fields = {"name": name, "version": version(), "python": info["python"], "arch": info["arch"]}
        fields |= {"glibc": args.glibc, "font": font, "commit": commit, "dirty": dirty}
        fields["built"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        (stage / "BUNDLE-INFO").write_text("".join(f"{k}={v}\n" for k, v in fields.items()))
        checksums(stage)
        archive = out / f"{name}.tar.gz"
        say(f"压缩为 {archive}")
        partial = Path(tmp) / "partial.tar.gz"
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(stage, arcname=name, filter=_anonymous)
        os.replace(partial, archive)  # a half-written archive never carries the final name
    return archive


def _anonymous(member: tarfile.TarInfo) -> tarfile.TarInfo:
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member


def main() -> int:
    parser = argparse.ArgumentParser(description="制作纪实系统离线安装包（源代码、全部依赖 wheel、中文字体、安装脚本）")
    parser.add_argument("--python", default=sys.executable, help="目标 Python 解释器（决定 cp311 等标签）")
    parser.add_argument("-o", "--output", default=str(ROOT / "dist"), help="输出目录（默认 dist/）")
    parser.add_argument("--glibc", default="2.28", help="服务器最低 glibc 版本（默认 2.28：麒麟 V10、统信 UOS 20）")
    parser.add_argument("--font", default=os.environ.get("JISHI_PDF_FONT", ""), help="中文字体 path[#index]")
    parser.add_argument("--include-untracked", action="store_true", help="也包含未提交的新文件（测试用）")
    args = parser.parse_args()
    if not re.fullmatch(r"2\.\d+", args.glibc):
        parser.error("--glibc 形如 2.28")
    try:
        archive = build(args)
    except Refused as exc:
        print(f"打包失败：{exc}", file=sys.stderr)
        return 1
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    say(f"完成：{archive}（{archive.stat().st_size / 1e6:.1f} MB）")
    print(f"    SHA-256 {digest}\n    请把这个摘要另行告知安装人员（电话或纸面），以核对传递过程中未被替换。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
