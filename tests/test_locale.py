"""The English catalog is complete, compiled, and actually used when a user switches language."""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from jishi.core.testing import World

CATALOG = Path(settings.BASE_DIR) / "jishi" / "locale" / "en" / "LC_MESSAGES"
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")\s*$")
CONTINUATION = re.compile(r"^(\".*\")\s*$")


@dataclass
class Entry:
    flags: list[str] = field(default_factory=list)
    parts: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.parts.get("msgid", "")

    @property
    def msgstrs(self) -> dict[str, str]:
        return {k: v for k, v in self.parts.items() if k.startswith("msgstr")}


def parse_po(path: Path) -> list[Entry]:
    """A small .po reader: flags, msgctxt/msgid/msgid_plural/msgstr[n], multi-line strings."""
    entries: list[Entry] = []
    current = Entry()
    key = ""

    def flush() -> None:
        nonlocal current
        if current.parts:
            entries.append(current)
        current = Entry()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            flush()
            key = ""
        elif line.startswith("#,"):
            if "msgid" in current.parts:  # a flag line always starts a new entry
                flush()
            current.flags += [f.strip() for f in line[2:].split(",")]
        elif line.startswith("#~"):
            raise AssertionError(f"obsolete entry left in the catalog: {line}")
        elif line.startswith("#"):
            continue
        elif m := KEYWORD.match(line):
            key = m.group(1)
            if key in ("msgid", "msgctxt") and "msgid" in current.parts:
                flush()
            current.parts[key] = ast.literal_eval(m.group(2))
        elif m := CONTINUATION.match(line):
            current.parts[key] += ast.literal_eval(m.group(1))
        else:
            raise AssertionError(f"unexpected line in {path.name}: {raw!r}")
    flush()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    found = parse_po(CATALOG / "django.po")
    assert found and found[0].msgid == "", "the catalog starts with its header"
    return found


def test_every_message_is_translated_and_none_is_fuzzy(entries: list[Entry]):
    header, messages = entries[0], entries[1:]
    assert "fuzzy" not in header.flags
    assert "Language: en" in header.msgstrs["msgstr"]
    assert len(messages) > 100
    for entry in messages:
        assert "fuzzy" not in entry.flags, entry.msgid
        assert entry.msgstrs, entry.msgid
        for key, text in entry.msgstrs.items():
            assert text.strip(), f"{entry.msgid!r} has an empty {key}"
        if "python-format" in entry.flags:  # every placeholder of the source survives in the translation
            placeholders = set(re.findall(r"%\(\w+\)s", entry.msgid))
            for text in entry.msgstrs.values():
                assert set(re.findall(r"%\(\w+\)s", text)) == placeholders, entry.msgid


def test_the_compiled_catalog_matches_the_source(entries: list[Entry]):
    with (CATALOG / "django.mo").open("rb") as fp:
        compiled = gnu_gettext.GNUTranslations(fp)
    for entry in entries[1:]:
        if "msgid_plural" in entry.parts:
            assert compiled.ngettext(entry.msgid, entry.parts["msgid_plural"], 1) == entry.parts["msgstr[0]"]
            assert compiled.ngettext(entry.msgid, entry.parts["msgid_plural"], 5) == entry.parts["msgstr[1]"]
        elif "msgctxt" in entry.parts:
            assert compiled.pgettext(entry.parts["msgctxt"], entry.msgid) == entry.parts["msgstr"], entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.parts["msgstr"], entry.msgid


def test_django_uses_the_english_catalog():
    # Through variables, so that makemessages does not list this file as a source of the messages.
    todo, batches = "我的待办", "调整批次"
    with translation.override("en"):
        assert translation.gettext(todo) == "My to-do list"
        assert translation.gettext(batches) == "Adjustment batches"
    with translation.override("zh-hans"):
        assert translation.gettext(todo) == "我的待办"


@pytest.mark.django_db
def test_a_page_is_in_english_after_the_switch(world: World):
    client = Client()
    client.force_login(world.alice)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("batch_list"))
    assert response.status_code == 200 and response["Content-Language"] == "en"
    body = response.content.decode()
    nav = body[body.index("<nav>") : body.index("</nav>")]
    for english in ("My to-do list", "Adjustment batches", "Cadres", "Procedures"):
        assert english in nav
    assert "调整批次" not in nav and "我的待办" not in nav
    assert "Sign out" in body


@pytest.mark.django_db
def test_chinese_stays_the_default(world: World):
    client = Client()
    client.force_login(world.alice)
    body = client.get(reverse("batch_list")).content.decode()
    nav = body[body.index("<nav>") : body.index("</nav>")]
    assert "调整批次" in nav and "Adjustment batches" not in nav
