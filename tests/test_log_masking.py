"""No 身份证号 in any log line: every configured handler masks 18-character ID numbers in the message, its
arguments and the traceback — including the one Django logs when a page fails with an ID number in the error."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from test_lrmx import ID_NUMBER, sample_form

from jishi.cadres import lrmx
from jishi.core import crypto
from jishi.core.log_filters import ID_NUMBER as PATTERN
from jishi.core.log_filters import MaskIdNumbers, mask
from jishi.core.testing import World

ANY_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def configured_handlers(*names: str) -> set[logging.Handler]:
    """The handlers settings.LOGGING installed on these loggers (not pytest's capturing ones)."""
    found = {h for name in names for h in logging.getLogger(name).handlers}
    return {h for h in found if not type(h).__module__.startswith("_pytest")}


@contextmanager
def configured_output() -> Iterator[io.StringIO]:
    """What the configured handlers (settings.LOGGING) write, captured: their streams pointed at a buffer."""
    buffer = io.StringIO()
    handlers = configured_handlers("", "django", "django.server")
    masked = [h for h in handlers if isinstance(h, logging.StreamHandler)]
    assert masked, "no stream handler configured"
    old = [h.setStream(buffer) for h in masked]  # type: ignore[func-returns-value]
    try:
        yield buffer
    finally:
        for h, stream in zip(masked, old, strict=True):
            h.setStream(stream)


def test_every_configured_handler_carries_the_mask():
    config = settings.LOGGING
    assert config["filters"]["mask_id_numbers"]["()"] == "jishi.core.log_filters.MaskIdNumbers"
    assert all("mask_id_numbers" in h.get("filters", []) for h in config["handlers"].values())
    handlers = configured_handlers("", "django", "django.request", "django.server")
    assert handlers and all(any(isinstance(f, MaskIdNumbers) for f in h.filters) for h in handlers)
    # Django's own handlers (mail_admins, the DEBUG console) are detached: "django" logs through the root.
    assert logging.getLogger("django").handlers == []


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证号 51102519800101123X 有误", "身份证号 511025************ 有误"),
        ("id=511025198001011234,", "id=511025************,"),
        ("x 51102519800101123x", "x 511025************"),
    ],
)
def test_an_id_number_is_masked_to_its_region_code(text: str, masked: str):
    assert mask(text) == masked


def test_hashes_and_longer_numbers_are_left_alone():
    sha = "a3f1" + "5" * 60
    for text in (sha, "1" * 19, "订单 12345678901234567890", "511025198001011234abc"):
        assert mask(text) == text


def test_a_logged_message_its_arguments_and_its_traceback_carry_no_id_number():
    logger = logging.getLogger("jishi.test_log_masking")
    with configured_output() as out:
        logger.warning("导入失败：%s", f"身份证号 {ID_NUMBER}")
        logger.error(f"cadre {ID_NUMBER} not found")
        try:
            raise ValueError(f"bad id_number={ID_NUMBER!r}")
        except ValueError:
            logger.exception("导入 %s 出错", ID_NUMBER)
    text = out.getvalue()
    assert text.count(ID_NUMBER[:6] + "*" * 12) >= 4 and "Traceback" in text and "ValueError" in text
    assert not ANY_ID.search(text) and not PATTERN.search(text)


def test_a_failing_lrmx_import_logs_its_traceback_without_the_cadres_id_number(world: World, monkeypatch):
    """A real error path: the LRMX upload looks the cadre up by the hash of the ID number; when that fails
    with the number in the error (a broken key library echoing its input), Django logs the 500 with the
    traceback — masked."""

    def broken_lookup(value: str) -> str:
        raise RuntimeError(f"lookup_hash failed for {value}")

    monkeypatch.setattr(crypto, "lookup_hash", broken_lookup)
    client = Client(raise_request_exception=False)
    client.force_login(world.alice)
    data = lrmx.build(sample_form())
    assert ID_NUMBER in data.decode("utf-8", errors="replace")
    with configured_output() as out:
        response = client.post(
            reverse("cadre_lrmx_import"),
            {"org_unit": world.city.pk, "file": SimpleUploadedFile("王小明.lrmx", data)},
        )
    text = out.getvalue()
    assert response.status_code == 500
    assert (
        "Internal Server Error: /cadres/lrmx/import/" in text and f"lookup_hash failed for {ID_NUMBER[:6]}****" in text
    )
    assert not ANY_ID.search(text)
