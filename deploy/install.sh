#!/usr/bin/env bash
# 纪实系统离线安装与升级：在解开的安装包目录中运行（用法见 README-install.txt 或 ./install.sh --help）。
#
# Why this shape: every file is checked against SHA256SUMS before anything is written; dependencies come from
# wheelhouse/ only (no index, no machine pip config); each bundle installs into its own releases/<id>, and
# `current` switches to it only after migrate, static files and bootstrap succeeded — a failed upgrade leaves
# the running version in place, the environment file as it was, and (SQLite) a copy of the database from
# just before the migration.
set -eu
set -o pipefail
umask 022

BUNDLE_DIR=$(cd "$(dirname "$0")" && pwd)
PREFIX=/opt/jishi DB_URL="" OWNER_URL="" UNIT_NAME="" FONDS="" ADMIN="" ADMIN_NAME=""
ENV_FILE="" PYTHON="" HOSTS="" URL="" OWNER=""
STEP="" STEP_NO=0 DONE=0

say() { printf '%s\n' "$*"; }
die() { say "错误：$*" >&2; exit 1; }
step() { STEP_NO=$((STEP_NO + 1)); STEP=$1; say ""; say "==> 第 ${STEP_NO} 步：$1"; }
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && [ "$DONE" -eq 0 ] && [ "$STEP_NO" -gt 0 ]; then
    say "安装未完成：第 ${STEP_NO} 步「${STEP}」失败（退出码 ${status}）。" >&2
    say "当前运行的版本未被切换，环境文件未被改写；排除问题后可重新运行本脚本。" >&2
    [ -z "${BACKUP_COPY:-}" ] || say "升级前的数据库备份：$BACKUP_COPY" >&2
  fi
}
trap on_exit EXIT

usage() {
  sed -n 's/^  //p' <<'EOF'
  用法：./install.sh [选项]
    --prefix DIR              安装目录（默认 /opt/jishi）
    --unit-name 名称          组织部门名称（首次安装必填）
    --fonds 全宗号            组织部门的全宗号，如 J001（首次安装必填）
    --admin 登录名            第一位系统管理员（首次安装必填；口令取自 JISHI_ADMIN_PASSWORD 或终端输入）
    --admin-name 姓名         系统管理员姓名（可选）
    --database-url URL        PostgreSQL 应用角色连接（默认：DIR/var 下的 SQLite）
    --owner-database-url URL  PostgreSQL 属主角色连接，只用于迁移和授权，不写入环境文件
    --url URL                 用户访问的地址，如 https://jishi.zzb.intranet（决定允许的主机名、CSRF 来源、
                              Cookie 是否仅限 HTTPS；默认按 HTTPS 访问、允许本机名和本机 IPv4 地址）
    --allowed-hosts 列表      访问用的主机名/IP，逗号分隔（覆盖 --url 推出的值）
    --env-file PATH           环境文件（默认 DIR/jishi.env）
    --python PATH             Python 解释器（默认 python3.11 或版本相符的 python3）
    --owner 用户[:组]         安装后把数据目录和环境文件交给运行服务的账号
EOF
}

while [ $# -gt 0 ]; do
  opt=$1
  case $opt in
    -h | --help) usage; DONE=1; exit 0 ;;
    --prefix | --unit-name | --fonds | --admin | --admin-name | --database-url | --owner-database-url) ;;
    --url | --allowed-hosts | --env-file | --python | --owner) ;;
    *) die "不认识的选项 $opt（./install.sh --help 列出全部选项）" ;;
  esac
  [ $# -ge 2 ] || die "选项 $opt 需要一个值"
  case $opt in
    --prefix) PREFIX=$2 ;; --unit-name) UNIT_NAME=$2 ;; --fonds) FONDS=$2 ;; --admin) ADMIN=$2 ;;
    --admin-name) ADMIN_NAME=$2 ;; --database-url) DB_URL=$2 ;; --owner-database-url) OWNER_URL=$2 ;;
    --url) URL=$2 ;; --allowed-hosts) HOSTS=$2 ;; --env-file) ENV_FILE=$2 ;; --python) PYTHON=$2 ;; --owner) OWNER=$2 ;;
  esac
  shift 2
done
case $PREFIX in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac
ENV_FILE=${ENV_FILE:-$PREFIX/jishi.env}
case $ENV_FILE in /*) ;; *) ENV_FILE="$(pwd)/$ENV_FILE" ;; esac
case "$PREFIX$ENV_FILE" in *"'"* | *" "*) die "安装目录和环境文件路径不能含空格或单引号" ;; esac
VAR_DIR="$PREFIX/var"
info() { sed -n "s/^$1=//p" "$BUNDLE_DIR/BUNDLE-INFO"; }
envval() { (set -a; . "$ENV_FILE"; eval "printf '%s' \"\${$1-}\""); }

step "校验安装包（SHA256SUMS）"
cd "$BUNDLE_DIR"
[ -f SHA256SUMS ] && [ -f BUNDLE-INFO ] || die "$BUNDLE_DIR 不是完整的安装包目录（缺少 SHA256SUMS 或 BUNDLE-INFO）"
if ! report=$(LC_ALL=C sha256sum -c --quiet SHA256SUMS 2>/dev/null); then
  say "以下文件与 SHA256SUMS 不符，拒绝安装（安装包可能损坏或被改动）：" >&2
  printf '%s\n' "$report" | sed -n -e 's/^\(.*\): FAILED open or read$/  缺失：\1/p' -e 's/^\(.*\): FAILED$/  被改动：\1/p' >&2
  exit 1
fi
extra=$(comm -13 <(cut -c67- SHA256SUMS | LC_ALL=C sort) <(find . -type f ! -path ./SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort))
[ -z "$extra" ] || die "安装包中有 SHA256SUMS 未登记的文件，拒绝安装：$(printf '%s ' $extra)"
VERSION=$(info version)
say "$(info name)：$(wc -l <SHA256SUMS) 个文件全部核对无误（提交 $(info commit | cut -c1-12)）。"
[ "$(info dirty)" != yes ] || say "注意：本安装包由含未提交改动的代码制作，只应用于测试。"

step "检查运行环境（CPU 架构、glibc、Python）"
[ "$(uname -m)" = "$(info arch)" ] || die "本安装包适用于 $(info arch)，本机是 $(uname -m)"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)
[ -n "$glibc" ] || die "本安装包需要 glibc 系统（未能读取 glibc 版本）"
[ "$(printf '%s\n%s\n' "$(info glibc)" "$glibc" | sort -V | head -n1)" = "$(info glibc)" ] ||
  die "本机 glibc $glibc 低于安装包要求的 $(info glibc)"
want=$(info python)
pyver() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }
if [ -z "$PYTHON" ]; then
  for candidate in "python$want" python3; do
    if command -v "$candidate" >/dev/null && [ "$(pyver "$candidate")" = "$want" ]; then PYTHON=$(command -v "$candidate"); break; fi
  done
  [ -n "$PYTHON" ] || die "未找到 Python $want：请先安装，或用 --python 指定解释器"
fi
[ "$(pyver "$PYTHON")" = "$want" ] || die "$PYTHON 不是 Python $want（本安装包的依赖为 Python $want 编译）"
"$PYTHON" -c 'import venv, ensurepip, sqlite3' 2>/dev/null ||
  die "$PYTHON 缺少 venv/ensurepip 模块（Debian/Ubuntu 系请安装 python$want-venv）"
UPGRADE=0
if [ -e "$PREFIX/current" ] || [ -f "$ENV_FILE" ]; then UPGRADE=1; fi
if [ "$UPGRADE" -eq 0 ]; then
  [ -n "$UNIT_NAME" ] && [ -n "$FONDS" ] && [ -n "$ADMIN" ] || die "首次安装须给出 --unit-name、--fonds 和 --admin"
  [ -n "${JISHI_ADMIN_PASSWORD:-}" ] || [ -t 0 ] || die "无人值守安装请用环境变量 JISHI_ADMIN_PASSWORD 提供管理员口令"
fi
say "$(uname -m)，glibc $glibc，$PYTHON（Python $want）；$([ "$UPGRADE" -eq 1 ] && echo "升级 $PREFIX 中已有的安装" || echo "全新安装到 $PREFIX")。"

step "安装程序文件"
RELEASE_ID="$VERSION-$(sha256sum SHA256SUMS | cut -c1-12)"
REL="$PREFIX/releases/$RELEASE_ID"
mkdir -p "$REL" "$PREFIX/bin"
rm -rf "$REL/app.new"
cp -pR "$BUNDLE_DIR/app" "$REL/app.new"  # -p: collectstatic compares modification times
rm -rf "$REL/app"
mv "$REL/app.new" "$REL/app"
cp BUNDLE-INFO "$REL/BUNDLE-INFO"
say "程序文件已复制到 $REL/app"

step "安装依赖包（只用安装包内的 wheelhouse，不访问网络）"
if [ "$(pyver "$REL/venv/bin/python")" != "$want" ]; then
  rm -rf "$REL/venv"
  "$PYTHON" -m venv "$REL/venv"
fi
say "安装 $(ls wheelhouse | wc -l) 个 wheel 到 $REL/venv …"
# env -i: no pip.conf, PIP_* variable or index of this machine can put anything but the wheelhouse in play.
env -i PATH=/usr/bin:/bin HOME="${HOME:-/root}" PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$REL/venv/bin/python" -m pip install --no-index --find-links "$BUNDLE_DIR/wheelhouse" --no-cache-dir --quiet \
  -r "$REL/app/requirements.txt"
# Compiled now, as the installing user: a service account may not write __pycache__ into a root-owned tree.
"$REL/venv/bin/python" -m compileall -q "$REL/app" >/dev/null
say "依赖包安装完成。"

step "安装中文字体（PDF 文书嵌入用）"
FONT_SETTING=""
font=$(info font)
if [ -n "$font" ]; then
  mkdir -p "$PREFIX/share/fonts"
  cp "$BUNDLE_DIR/${font%%#*}" "$PREFIX/share/fonts/"
  cp "$BUNDLE_DIR/${font%%#*}.copyright" "$PREFIX/share/fonts/" 2>/dev/null || true
  FONT_SETTING="$PREFIX/share/fonts/$(basename "${font%%#*}")#${font#*#}"
  say "字体：$FONT_SETTING"
else
  say "安装包不含中文字体：将使用系统字体（fonts-wqy-microhei 或 fonts-noto-cjk），没有时生成 PDF 会报错。"
fi

step "写入环境文件 $ENV_FILE"
quoted() { case $2 in *"'"* | *$'\n'*) die "$1 的值不能含单引号或换行" ;; esac; printf "%s='%s'\n" "$1" "$2"; }
token() { "$PYTHON" -c "import secrets; print(secrets.token_urlsafe($1))"; }
SQLITE_PATH=""
case $DB_URL in
  sqlite:///*) SQLITE_PATH=${DB_URL#sqlite://}; DB_URL="" # the settings add WAL and IMMEDIATE only without a URL
    case $SQLITE_PATH in /*) ;; *) die "SQLite 数据库须用绝对路径：sqlite:////path/to/jishi.sqlite3" ;; esac ;;
  "" | postgres://* | postgresql://*) ;;
  *) die "--database-url 只支持 postgres:// 或 sqlite:////绝对路径" ;;
esac
if [ -f "$ENV_FILE" ]; then
  for key in JISHI_FIELD_KEY JISHI_DOCUMENT_CERT_PASSPHRASE; do
    [ -n "$(envval $key)" ] || die "$ENV_FILE 缺少 $key：它保护已有数据，不能重新生成，请从备份恢复环境文件"
  done
  [ -z "$DB_URL" ] || [ "$DB_URL" = "$(envval DATABASE_URL)" ] || die "--database-url 与 $ENV_FILE 中的不同；更换数据库请直接编辑环境文件"
  [ -n "$(envval JISHI_SECRET_KEY)" ] || quoted JISHI_SECRET_KEY "$(token 50)" >>"$ENV_FILE"
  [ -n "$(envval JISHI_PDF_FONT)" ] || [ -z "$FONT_SETTING" ] || quoted JISHI_PDF_FONT "$FONT_SETTING" >>"$ENV_FILE"
  say "保留已有的环境文件（密钥和数据库设置不变）。"
  [ -z "$URL$HOSTS" ] || say "注意：已有环境文件，--url/--allowed-hosts 未生效；需要时请直接编辑 $ENV_FILE。"
else
  SECURE=true CSRF=""
  if [ -n "$URL" ]; then
    read -r scheme netloc host < <("$PYTHON" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.scheme, p.netloc or "-", p.hostname or "-")' "$URL")
    case $scheme in http | https) [ "$host" != - ] ;; *) false ;; esac || die "--url 须形如 https://jishi.zzb.intranet"
    CSRF="$scheme://$netloc"
    [ "$scheme" = https ] || SECURE=false
    HOSTS=${HOSTS:-$host,127.0.0.1,localhost}
  fi
  if [ -z "$HOSTS" ]; then
    HOSTS="127.0.0.1,localhost"
    name=$(hostname 2>/dev/null || true)
    [ -z "$name" ] || HOSTS="$HOSTS,$name"
    for ip in $(hostname -I 2>/dev/null || true); do case $ip in *:*) ;; *) HOSTS="$HOSTS,$ip" ;; esac; done
  fi
  mkdir -p "$(dirname "$ENV_FILE")"
  (
    umask 077
    {
      say "# 纪实系统环境文件（install.sh $(date '+%F %T') 生成）。含密钥，权限 600，勿外传。"
      say "# JISHI_FIELD_KEY 加密身份证号、保护单位签名密钥：务必与数据库一同备份，丢失则数据无法解密。"
      say "# systemd: EnvironmentFile=$ENV_FILE    shell: set -a; . $ENV_FILE; set +a"
      quoted JISHI_ENV production
      quoted JISHI_SECRET_KEY "$(token 50)"
      quoted JISHI_FIELD_KEY "$(token 32)"
      quoted JISHI_DOCUMENT_CERT_PASSPHRASE "$(token 32)"
      quoted JISHI_VAR_DIR "$VAR_DIR"
      say "# 空 = 内置 SQLite（\$JISHI_VAR_DIR/jishi.sqlite3）；PostgreSQL 用应用角色：postgres://jishi_app:…@host:5432/jishi"
      quoted DATABASE_URL "$DB_URL"
      [ -z "$SQLITE_PATH" ] || quoted JISHI_SQLITE_PATH "$SQLITE_PATH"
      quoted JISHI_ALLOWED_HOSTS "$HOSTS"
      quoted JISHI_CSRF_TRUSTED_ORIGINS "$CSRF"
      say "# true：登录 Cookie 只经 HTTPS 发送（deploy/nginx/jishi.conf）。只用 HTTP 访问时须为 false，但服务自检会拒绝。"
      quoted JISHI_SECURE_COOKIES "$SECURE"
      quoted JISHI_DEBUG false
      quoted JISHI_PDF_FONT "$FONT_SETTING"
    } >"$ENV_FILE.new"
  )
  mv "$ENV_FILE.new" "$ENV_FILE"
  say "已生成环境文件（权限 600）。允许的访问地址：$HOSTS；Cookie 仅限 HTTPS：$SECURE"
fi
chmod 600 "$ENV_FILE"
if [ -z "$OWNER" ] && [ -d "$VAR_DIR" ] && [ "$(stat -c %u "$VAR_DIR")" != "$(id -u)" ]; then
  OWNER=$(stat -c %U:%G "$VAR_DIR") # an upgrade keeps the service account's ownership
fi
mkdir -p "$VAR_DIR"
chmod 750 "$VAR_DIR"

# manage.py with exactly the environment file's settings (env -i: nothing of the installing shell leaks in).
manage() {
  local -a extra=()
  while [ "$1" != "--" ]; do extra+=("$1"); shift; done
  shift
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="${HOME:-/root}" LANG="${LANG:-C.UTF-8}" ${extra[@]+"${extra[@]}"} \
    sh -c 'set -a; . "$1"; set +a; [ -z "${OVERRIDE_DATABASE_URL:-}" ] || DATABASE_URL=$OVERRIDE_DATABASE_URL
           unset OVERRIDE_DATABASE_URL; shift; exec "$@"' \
    jishi "$ENV_FILE" "$REL/venv/bin/python" "$REL/app/manage.py" "$@"
}
DB_NOW=$(envval DATABASE_URL)

if [ "$UPGRADE" -eq 1 ] && [ -z "$DB_NOW" ]; then
  step "备份 SQLite 数据库（升级前）"
  db=$(envval JISHI_SQLITE_PATH)
  db=${db:-$VAR_DIR/jishi.sqlite3}
  if [ -f "$db" ]; then
    mkdir -p "$VAR_DIR/upgrade-backups"
    copy="$VAR_DIR/upgrade-backups/jishi-$(date +%Y%m%d-%H%M%S).sqlite3"
    BACKUP_COPY=$copy
    # The backup API copies a consistent snapshot even while the service writes (WAL).
    "$REL/venv/bin/python" -c 'import sqlite3, sys; s = sqlite3.connect(sys.argv[1]); d = sqlite3.connect(sys.argv[2]); s.backup(d); d.close()' "$db" "$copy"
    find "$VAR_DIR/upgrade-backups" -name 'jishi-*.sqlite3' | sort | head -n -3 | xargs -r rm -f
    say "已备份到 $copy（保留最近 3 份）"
  else
    say "尚无数据库文件，无需备份。"
  fi
fi

step "迁移数据库"
if [ -n "$DB_NOW" ] && [ -z "$OWNER_URL" ]; then
  say "提示：PostgreSQL 的迁移须以属主角色运行；应用角色没有建表权限时本步会失败，请加 --owner-database-url 重新运行。"
fi
if [ -n "$OWNER_URL" ]; then
  manage OVERRIDE_DATABASE_URL="$OWNER_URL" -- migrate --noinput
  role=$("$PYTHON" -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).username or "")' "$DB_NOW")
  [ -n "$role" ] || die "DATABASE_URL 中没有用户名，无法为应用角色授权"
  manage OVERRIDE_DATABASE_URL="$OWNER_URL" -- ledger grant-app-role "$role"
else
  manage -- migrate --noinput
fi

step "收集静态文件"
manage -- collectstatic --noinput

step "载入标准流程定义"
manage -- procedure load standard

if [ -n "$FONDS$UNIT_NAME$ADMIN" ]; then
  step "创建组织部门和系统管理员"
  [ -n "$UNIT_NAME" ] && [ -n "$FONDS" ] && [ -n "$ADMIN" ] || die "--unit-name、--fonds 和 --admin 须一同给出"
  pass=()
  [ -z "${JISHI_ADMIN_PASSWORD+x}" ] || pass=(JISHI_ADMIN_PASSWORD="$JISHI_ADMIN_PASSWORD")
  manage ${pass[@]+"${pass[@]}"} -- bootstrap --unit-name "$UNIT_NAME" --fonds "$FONDS" --admin "$ADMIN" --full-name "$ADMIN_NAME"
  step "生成文书签章证书（已有则不动）"
  manage -- documents cert-create --fonds "$FONDS" --if-missing
fi

step "系统检查"
manage -- check
# The service runs selfcheck before it starts (deploy/systemd/jishi.service). What it finds here is usually
# a setting to adjust in the environment file, not a reason to hold back the release.
SELFCHECK_OK=1 SELFCHECK_STEP=$STEP_NO
manage -- selfcheck || SELFCHECK_OK=0

step "启用新版本"
ln -sfn "$REL" "$PREFIX/current.new"
mv -Tf "$PREFIX/current.new" "$PREFIX/current"
date '+%F %T' >"$REL/LIVE-SINCE"
cat >"$PREFIX/bin/jishi-manage" <<EOF
#!/bin/sh
# 以生产环境设置运行管理命令，例如：$PREFIX/bin/jishi-manage ledger verify
set -eu
set -a
. '$ENV_FILE'
set +a
exec '$PREFIX/current/venv/bin/python' '$PREFIX/current/app/manage.py' "\$@"
EOF
chmod 755 "$PREFIX/bin/jishi-manage"
# Keep one earlier release that has been live (a rollback target); releases that never went live are leftovers.
previous=$(ls -1t "$PREFIX"/releases/*/LIVE-SINCE 2>/dev/null | grep -v "^$REL/" | head -n1 | xargs -r dirname || true)
for old in "$PREFIX"/releases/*; do
  [ "$old" = "$REL" ] || [ "$old" = "$previous" ] || { rm -rf "$old"; say "已删除旧版本 $(basename "$old")"; }
done
say "当前版本：$RELEASE_ID$([ -z "$previous" ] || echo "（上一版本 $(basename "$previous") 保留以备回退）")"

if [ -n "$OWNER" ]; then
  step "把数据目录和环境文件交给 $OWNER"
  chown -R "$OWNER" "$VAR_DIR" "$ENV_FILE"
fi

DONE=1
say ""
say "安装完成。"
say "  管理命令：$PREFIX/bin/jishi-manage（如 $PREFIX/bin/jishi-manage ledger verify）"
say "  服务：set -a; . $ENV_FILE; set +a; $PREFIX/current/venv/bin/gunicorn jishi.wsgi --chdir $PREFIX/current/app --bind 127.0.0.1:8000"
say "  请把环境文件 $ENV_FILE（含 JISHI_FIELD_KEY）与数据库一同备份。"
[ "$UPGRADE" -eq 0 ] || say "  这是一次升级：请重启纪实服务（systemctl restart jishi），使新版本生效。"
[ "$SELFCHECK_OK" -eq 1 ] || say "  警告：部署自检未通过（见第 ${SELFCHECK_STEP} 步），服务启动前会再次自检并拒绝启动：请按提示修改 $ENV_FILE 后运行 $PREFIX/bin/jishi-manage selfcheck。"
