"""档号 formats, retention defaults and gap detection (pure), and the settings check."""

from __future__ import annotations

import pytest

from jishi.archives import numbering
from jishi.archives.checks import archive_settings


def test_the_default_code_follows_da_t_22_2015():
    parts = numbering.CodeParts("J001", "WS", 2026, "Y", "GB", 7)
    assert numbering.format_code(parts) == "J001-WS·2026-Y-GB-0007"


def test_a_custom_format_must_keep_every_part():
    assert numbering.format_problems("{fonds}-{year}-{number:04d}") == [
        "缺少字段：category, retention, org（档号须包含全部组成部分）"
    ]
    assert "未知字段：box" in numbering.format_problems("{fonds}{box}{category}{year}{retention}{org}{number}")[0]
    custom = "{fonds}·{year}·{category}-{retention}-{org}-{number:05d}"
    assert numbering.format_problems(custom) == []
    assert (
        numbering.format_code(numbering.CodeParts("J001", "WS", 2026, "D30", "GB", 12), custom)
        == "J001·2026·WS-D30-GB-00012"
    )


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (numbering.CodeParts("J-01", "WS", 2026, "Y", "GB", 1), "只能由字母和数字"),
        (numbering.CodeParts("J001", "WS", 2026, "D5", "GB", 1), "保管期限代码"),
        (numbering.CodeParts("J001", "WS", 26, "Y", "GB", 1), "年度"),
        (numbering.CodeParts("J001", "WS", 2026, "Y", "GB", 0), "件号从 1 开始"),
    ],
)
def test_bad_parts_are_refused_with_the_reason(parts, message):
    with pytest.raises(numbering.CodeError, match=message):
        numbering.format_code(parts)


def test_retention_defaults_to_permanent_for_appointment_papers_with_item_overrides():
    assert numbering.default_retention("material", "I25") == "Y"  # 考察材料
    assert numbering.default_retention("material", "I17") == "D10"  # 考察预告
    assert numbering.default_retention("material", "I25", {"I25": "D30"}) == "D30"
    assert numbering.expiry_year(2026, "D10") == 2036 and numbering.expiry_year(2026, "Y") is None
    with pytest.raises(numbering.CodeError):
        numbering.default_retention("material", "I25", {"I25": "forever"})


def test_gaps_lists_missing_and_duplicated_numbers():
    assert numbering.gaps([1, 2, 4, 4, 6]) == ([3, 5], [4])
    assert numbering.gaps([]) == ([], [])
    assert numbering.gaps([1, 2, 3]) == ([], [])


def test_the_system_check_refuses_a_code_format_without_the_item_number(settings):
    settings.ARCHIVE_CODE_FORMAT = "{fonds}-{category}·{year}-{retention}-{org}"
    settings.ARCHIVE_RETENTION = {"I13": "D5"}
    ids = {e.id for e in archive_settings()}
    assert ids == {"archives.E001", "archives.E003"}
