"""A clerk in Debian chromium: logs in, opens the demo batch, is refused a skipped step,
and completes an available one (the section head confirms from his own login).

The app runs as it does for `make run` — a gunicorn process over a freshly seeded database
(SQLite in a temp dir, or a throwaway PostgreSQL database when DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Jishi-Demo-2026"
PIN = "739146"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the browser tests: /usr/bin/chromium is missing (see .ci/browser-deps)")
    pytest.skip("Debian chromium is not installed (/usr/bin/chromium); run `make browser-deps` to install it")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    _require_chromium()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "JISHI_VAR_DIR": str(tmp_path_factory.mktemp("var")),
            "JISHI_ENV": "development",
            "DJANGO_SETTINGS_MODULE": "jishi.settings",
            # As in-process tests (conftest): the production key-sealing cost made the demo seed take minutes.
            "JISHI_SIGNING_SCRYPT_N_LOG2": "10",
        }
    )
    dropdb = None
    if os.environ.get("DATABASE_URL"):
        import psycopg

        base = os.environ["DATABASE_URL"]
        name = f"jishi_browser_{os.getpid()}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name

        def dropdb() -> None:
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    for args in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"], ["demo_seed"]):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    yield env
    if dropdb:
        dropdb()


@pytest.fixture(scope="module")
def base_url(app_env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "jishi.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=app_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    # Block on the server's own log line rather than sleeping: the worker is up when it says so.
    for line in proc.stderr:
        if "Booting worker" in line:
            break
    else:
        pytest.fail("gunicorn exited before booting a worker")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(base_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def _login(browser, base_url: str, app_env: dict[str, str], username: str):
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # 等保 mode: the demo users' TOTP devices are seeded; `otp_code` shows what their phone would.
    expect(page.locator("h1")).to_have_text("动态口令")
    code = subprocess.run(
        [sys.executable, "manage.py", "otp_code", username],
        cwd=ROOT,
        env=app_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    page.fill("input[name=token]", code)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("我的待办")
    return page


def _django(app_env: dict[str, str], code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=app_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_clerk_is_refused_a_skipped_step_and_completes_an_available_one(browser, base_url, app_env):
    clerk = _login(browser, base_url, app_env, "nj_clerk")
    expect(clerk.locator("body")).to_contain_text("我的待办")

    clerk.click("text=调整批次")
    clerk.click("text=2026年第二批市管干部调整")
    expect(clerk.locator("h1")).to_have_text("2026年第二批市管干部调整")

    # 酝酿 cannot start while 考察 is under way: the page says so, and the attempt is refused.
    clerk.click("tr:has(th:text('批次事项')) td[class*=cell] a[data-step=Y01]")
    expect(clerk.locator("body")).to_contain_text("本步骤尚未开放")
    clerk.click("#start-step")
    expect(clerk.locator("#refusal")).to_contain_text("不能越过程序")
    expect(clerk.locator("#refusal")).to_contain_text("已记入纪实台账")

    # 个别谈话 for 张明辉 is open: start it and record it.
    clerk.click("text=2026年第二批市管干部调整")
    clerk.click("tr:has(a:text('张明辉')) a[data-step=K04]")
    clerk.click("#start-step")
    clerk.fill("input[name=started_on]", "2026-11-02")
    clerk.fill("input[name=finished_on]", "2026-11-06")
    clerk.fill("input[name=interview_count]", "18")
    clerk.fill("textarea[name=interview_scope]", "所在单位班子成员、中层正职及部分干部职工")
    clerk.click("#save-fields")
    expect(clerk.locator("body")).to_contain_text("已保存")
    clerk.click("text=新增纪实笔记")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    clerk.fill("input[name=occurred_at]", f"{yesterday}T10:00")
    clerk.fill("input[name=place]", "市国资委三楼会议室")
    clerk.fill("textarea[name=participants]", "考察组王建国、李晓红；谈话对象18人")
    clerk.fill("textarea[name=content]", "逐人谈话，谈话对象对张明辉同志德才表现评价较好。")
    clerk.click("form[action*=notebook] button[type=submit]")
    expect(clerk.locator("body")).to_contain_text("纪实笔记已记录")
    clerk.fill("input.pin[data-role=clerk]", PIN)
    clerk.click("button[data-role=clerk]")
    expect(clerk.locator("body")).to_contain_text("已确认签字")
    expect(clerk.locator("#complete-step")).to_be_disabled()  # the section head has not signed yet
    step_url = clerk.url

    head = _login(browser, base_url, app_env, "nj_head")
    head.click("tr:has-text('张明辉'):has-text('K04') >> text=打开")
    head.fill("input.pin[data-role=section_head]", PIN)
    head.click("button[data-role=section_head]")
    expect(head.locator("body")).to_contain_text("已确认签字")

    clerk.goto(step_url)
    clerk.click("#complete-step")
    expect(clerk.locator("body")).to_contain_text("本步骤已完成")
    expect(clerk.locator("#step-state")).to_have_text("已完成")

    facts = _django(
        app_env,
        (
            "import json; from jishi.selection.models import StepRecord; from jishi.ledger.models import Event;"
            "r = StepRecord.objects.get(step_id='K04', nomination__cadre__name='张明辉');"
            "signers = sorted(r.confirmations.values_list('user__username', flat=True));"
            "print(json.dumps({'status': r.status, 'signers': signers,"
            "'refused': Event.objects.filter(action='step.refused', payload__contains='Y01').count()}))"
        ),
    )
    assert facts == {"status": "completed", "signers": ["nj_clerk", "nj_head"], "refused": 1}
