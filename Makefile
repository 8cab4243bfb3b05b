# Jishi — the two commands: `make run` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
export JISHI_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test setup lint test-sqlite test-postgres browser-deps clean help bench bundle otp

help:
	@echo "make run   — 安装依赖、迁移数据库、载入标准流程和演示数据，在 http://127.0.0.1:8000 提供服务"
	@echo "make test  — 安装依赖，运行代码检查和全部测试（CI=true 时另在 PostgreSQL 上运行，并强制浏览器测试）"
	@echo "make bundle — 制作离线安装包（dist/），在无外网的服务器上用其中的 install.sh 安装"
	@echo "make otp U=nj_clerk — 显示演示账号当前的动态口令（仅限开发环境）"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "==> 创建虚拟环境并安装锁定版本的依赖"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	@mkdir -p var
	@bash .ci/cjk-font
	@echo "==> 迁移数据库（$(JISHI_VAR_DIR)）"
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py collectstatic --noinput -v 0

otp: $(VENV)/.installed
	@$(PY) manage.py otp_code $(U)

run: setup
	$(PY) manage.py demo_seed
	@echo
	@echo "==> 服务地址：http://127.0.0.1:8000 （Ctrl+C 停止）"
	$(VENV)/bin/gunicorn jishi.wsgi --bind 127.0.0.1:8000 --workers 2 --access-logfile - --error-logfile -

lint: $(VENV)/.installed
	@echo "==> ruff / mypy / 迁移检查"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

browser-deps:
	@bash .ci/browser-deps

test-sqlite: $(VENV)/.installed
	@echo "==> 测试（SQLite）"
	$(VENV)/bin/pytest --durations=15

test-postgres: $(VENV)/.installed
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "==> 测试（PostgreSQL $(PG_URL)）"; \
		DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest --durations=15; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI 要求在 PostgreSQL 上测试，但无法连接 $(PG_URL)"; exit 1; \
	else \
		echo "==> 跳过 PostgreSQL 测试：无法连接 $(PG_URL)（设置 PG_URL 指向可用的数据库后重试）"; \
	fi

test: lint
	@if [ "$$CI" = "true" ]; then $(MAKE) --no-print-directory browser-deps; fi
	@echo "==> SQLite 与 PostgreSQL 两套测试并行运行，各自结束后显示输出"
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

clean:
	rm -rf $(VENV) var/static

bench: $(VENV)/.installed
	@echo "==> 性能基准（不属于 make test）：省级数据集、链与签名校验、写入路径、HTTP 负载、档案包、故障注入"
	@echo "    结果写入 bench/results/<时间>.json 与 .md；make bench QUICK=1 为几分钟的缩小运行；完整运行约需数小时"
	@echo "    REUSE=faults 取用此前单独运行的 var/bench/faults.json（如与数据集生成并行跑完的故障注入）"
	@echo "    REUSE_FROM=bench/results/<时间>.json：REUSE 所列各项中本机 var/bench 没有结果的，从该结果文件取用（可来自另一台机器）"
	PG_URL=$(PG_URL) $(PY) -m bench.run_all $(if $(QUICK),--quick,) $(if $(REUSE),--reuse-result $(REUSE),) $(if $(REUSE_FROM),--reuse-from $(REUSE_FROM),) $(if $(SKIP),--skip $(SKIP),)

bundle: $(VENV)/.installed
	@echo "==> 制作离线安装包（dist/）"
	$(PY) deploy/make_bundle.py -o dist/
