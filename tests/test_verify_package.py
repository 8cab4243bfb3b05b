"""四性检测 of archive packages (``python -m jishi.verify``): a valid package passes, each single corruption fails
the right check in the right category and names what is wrong. Pure: no database, no Django in the verifier."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jishi.verify import CATEGORIES, Limits, Report, verify_package
from jishi.verify.cli import main
from tests.archive_package_factory import FONDS, VOLUME, VOLUME_DIR, Built, build_package, rebag

REPO = Path(__file__).resolve().parent.parent
LABELS = {label: key for key, label in CATEGORIES.items()}


@pytest.fixture
def package(tmp_path: Path) -> Built:
    return build_package(tmp_path / "pkg")


def assert_fails(report: Report, check_id: str, category: str, item: str) -> None:
    """``check_id`` failed, it belongs to ``category`` (Chinese label), and some problem names ``item``."""
    check = report.checks[check_id]
    assert not check.passed, f"{check_id} passed:\n{report.to_text()}"
    assert check.category == LABELS[category]
    assert report.to_dict()["categories"][LABELS[category]]["passed"] is False
    assert any(item in p.item for p in check.problems), f"{item!r} not named by {check_id}: {check.problems}"
    assert not report.passed and report.exit_code == 1


def assert_passes(report: Report, *check_ids: str) -> None:
    for check_id in check_ids:
        assert report.checks[check_id].passed, f"{check_id} failed:\n{report.to_text()}"


def flip_byte(path: Path, offset: int = -40) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# A valid package ------------------------------------------------------------------------------------------


def test_a_fresh_package_passes_every_check_of_all_four_categories(package: Built):
    report = verify_package(package.root)
    assert report.passed, report.to_text()
    assert report.exit_code == 0
    assert report.volumes == [VOLUME]
    assert sorted(report.checks) == sorted(
        [f"S{i}" for i in range(1, 6)]
        + [f"A{i}" for i in range(1, 8)]
        + [f"C{i}" for i in range(1, 6)]
        + ["U1", "U2", "U3"]
    )


def test_the_command_line_prints_a_chinese_report_and_exits_0_for_a_fresh_package(package: Built, capsys):
    assert main([str(package.root)]) == 0
    out = capsys.readouterr().out
    assert str(package.root) in out and VOLUME in out
    for label in ("真实性", "完整性", "可用性", "安全性"):
        assert f"✔ {label}" in out
    assert out.rstrip().endswith("四性检测通过")


def test_the_json_report_has_english_keys_and_passes_for_a_fresh_package(package: Built, capsys):
    assert main([str(package.root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is True
    assert set(data["categories"]) == {"authenticity", "integrity", "usability", "security"}
    assert data["categories"]["authenticity"]["label"] == "真实性"
    check = data["categories"]["security"]["checks"][0]
    assert {"id", "name", "passed", "problems"} <= set(check)


def test_the_verifier_runs_as_a_module_without_importing_django(package: Built):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "jishi.verify", str(package.root)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "四性检测通过" in result.stdout
    imported = [
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    ]
    assert "jishi.verify" in imported
    assert not [m for m in imported if re.match(r"django(\.|$)", m)]


def test_an_sm3_package_passes_and_carries_an_sm3_manifest(tmp_path: Path):
    built = build_package(tmp_path / "sm3", algorithm="sm3")
    assert (built.root / "manifest-sm3.txt").exists()
    report = verify_package(built.root)
    assert report.passed, report.to_text()


def test_a_package_bagged_by_the_bagit_library_passes(package: Built, tmp_path: Path):
    """The exporter bags with bagit.make_bag; its tag files must be what the verifier expects."""
    import bagit

    out = tmp_path / "bagged"
    shutil.copytree(package.root / "data", out)
    info = {
        "Source-Organization": "内江市委组织部",
        "External-Identifier": VOLUME,
        "Bag-Software-Agent": "Jishi 纪实 (bagit 1.9.0)",
        "Jishi-Package-Format": "jishi-archive-package-v1",
    }
    bagit.make_bag(str(out), info, checksums=["sha256"])
    report = verify_package(out)
    assert report.passed, report.to_text()


def test_an_empty_ledger_reference_on_an_item_without_an_event_is_accepted(package: Built):
    """The exporter writes <台账事件 事件序号=""/> for items no event registered (records, forms)."""
    edit(
        package.root / "data/metadata.xml",
        "<载体>电子</载体>",
        f'<载体>电子</载体><台账事件 全宗号="{FONDS}" 事件序号="" />',
    )
    rebag(package.root)
    report = verify_package(package.root)
    assert report.passed, report.to_text()


# 真实性 ---------------------------------------------------------------------------------------------------


def test_a_flipped_byte_fails_authenticity_naming_the_file(package: Built):
    path = package.item("material")["path"]
    flip_byte(package.root / path)
    report = verify_package(package.root)
    assert_fails(report, "A1", "真实性", path)
    assert_fails(report, "A2", "真实性", path)


def test_a_flipped_byte_in_an_sm3_package_is_caught_by_the_sm3_manifest_too(tmp_path: Path):
    built = build_package(tmp_path / "sm3", algorithm="sm3")
    path = built.item("record")["path"]
    flip_byte(built.root / path, offset=5)
    report = verify_package(built.root)
    assert_fails(report, "A1", "真实性", path)
    messages = [p.message for p in report.problems("A1") if p.item == path]
    assert any("sm3" in m and "manifest-sm3.txt" in m for m in messages), messages
    assert any("sha256" in m for m in messages), messages


def test_the_json_report_names_the_failing_check_and_the_file(package: Built, capsys):
    path = package.item("record")["path"]
    flip_byte(package.root / path, offset=5)
    assert main([str(package.root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False
    authenticity = data["categories"]["authenticity"]
    assert authenticity["label"] == "真实性" and authenticity["passed"] is False
    a1 = next(c for c in authenticity["checks"] if c["id"] == "A1")
    assert a1["passed"] is False
    assert any(p["item"] == path and "摘要" in p["message"] for p in a1["problems"])
    assert data["categories"]["security"]["passed"] is True


def test_an_edited_title_in_metadata_fails_the_manifest_check(package: Built):
    edit(package.root / "data/metadata.xml", "考察材料", "考察材料（补充）")
    assert_fails(verify_package(package.root), "A1", "真实性", "data/metadata.xml")


def test_an_edited_title_with_every_manifest_recomputed_still_disagrees_with_the_signed_accept_event(package: Built):
    edit(package.root / "data/metadata.xml", "考察材料", "考察材料（补充）")
    rebag(package.root)
    report = verify_package(package.root)
    assert_passes(report, "A1")
    assert_fails(report, "A7", "真实性", package.item("material")["code"])


def test_a_forged_inclusion_proof_fails_naming_the_event(package: Built):
    proofs = package.root / "data/ledger/proofs.jsonl"
    lines = proofs.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        proof = json.loads(line)
        if proof["seq"] == package.accept_seq:
            digit = proof["path"][0][0]
            proof["path"][0] = ("1" if digit == "0" else "0") + proof["path"][0][1:]
            lines[index] = json.dumps(proof)
    proofs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rebag(package.root)
    report = verify_package(package.root)
    assert_passes(report, "A1", "A3")
    assert_fails(report, "A4", "真实性", f"全宗 {FONDS} 第 {package.accept_seq} 号事件")


def test_a_rewritten_event_payload_fails_the_hash_recomputation(package: Built):
    events = package.root / "data/ledger/events.jsonl"
    edit(events, "2026年第三批市管干部调整", "2026年第四批市管干部调整")
    rebag(package.root)
    batch_seq = next(r.seq for r in package.chain.rows if r.action == "batch.create")
    assert_fails(verify_package(package.root), "A3", "真实性", f"全宗 {FONDS} 第 {batch_seq} 号事件")


def test_a_checkpoint_signed_by_another_key_fails(package: Built):
    path = package.root / "data/ledger/checkpoints.json"
    checkpoints = json.loads(path.read_text(encoding="utf-8"))
    checkpoints[0]["signature"] = "00" * 64
    path.write_text(json.dumps(checkpoints), encoding="utf-8")
    rebag(package.root)
    assert_fails(verify_package(package.root), "A5", "真实性", f"全宗 {FONDS} 的检查点")


def test_a_removed_signature_of_the_accept_event_fails_the_signature_check(package: Built):
    path = package.root / "data/ledger/signatures.jsonl"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)["role"] != "checker"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rebag(package.root)
    assert_fails(verify_package(package.root), "A6", "真实性", f"全宗 {FONDS} 第 {package.accept_seq} 号事件")


def test_a_keys_json_that_differs_from_the_enrolled_keys_is_reported(package: Built):
    path = package.root / "data/ledger/keys.json"
    keys = json.loads(path.read_text(encoding="utf-8"))
    keys[1]["owner"] = "somebody"
    path.write_text(json.dumps(keys), encoding="utf-8")
    rebag(package.root)
    assert_fails(verify_package(package.root), "A6", "真实性", keys[1]["key_id"])


# 完整性 ---------------------------------------------------------------------------------------------------


def test_a_dropped_content_file_fails_integrity_naming_the_item(package: Built):
    item = package.item("record")
    (package.root / item["path"]).unlink()
    report = verify_package(package.root)
    assert_fails(report, "C1", "完整性", item["code"])
    assert any(item["path"] in p.message for p in report.problems("C1"))


def test_a_removed_ledger_line_with_every_manifest_recomputed_fails_event_completeness(package: Built):
    confirm = next(r for r in package.chain.rows if r.action == "step.confirm")
    path = package.root / "data/ledger/events.jsonl"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if json.loads(line)["seq"] != confirm.seq]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rebag(package.root)
    report = verify_package(package.root)
    assert_passes(report, "A1", "A3", "A4", "A7")
    assert_fails(report, "C4", "完整性", VOLUME)


def test_a_gap_in_the_signed_item_numbers_fails_integrity(tmp_path: Path):
    built = build_package(tmp_path / "gap", numbers=[1, 2, 4])
    report = verify_package(built.root)
    assert_passes(report, "A7", "A6", "C1")
    assert_fails(report, "C2", "完整性", VOLUME)
    assert any("3" in p.message for p in report.problems("C2"))


def test_a_duplicate_item_number_fails_integrity(tmp_path: Path):
    built = build_package(tmp_path / "dup", numbers=[1, 2, 2])
    assert_fails(verify_package(built.root), "C2", "完整性", VOLUME)


def test_a_required_documentation_item_without_a_file_fails_integrity(tmp_path: Path):
    built = build_package(tmp_path / "req", required=["I06", "I18", "I20", "I30"])
    report = verify_package(built.root)
    assert_passes(report, "A7")
    assert_fails(report, "C3", "完整性", "I30")


def test_a_blank_mandatory_element_fails_integrity_naming_the_item(package: Built):
    code = package.item("record")["code"]
    edit(package.root / "data/metadata.xml", "<责任者>内江市委组织部</责任者>", "<责任者 />")
    rebag(package.root)
    assert_fails(verify_package(package.root), "C5", "完整性", code)


# 可用性 ---------------------------------------------------------------------------------------------------


def test_a_truncated_pdf_fails_usability_naming_the_file(package: Built):
    path = package.root / package.item("material")["path"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    rebag(package.root)
    assert_fails(verify_package(package.root), "U2", "可用性", package.item("material")["path"])


def test_a_json_record_that_does_not_parse_fails_usability(package: Built):
    path = package.root / package.item("record")["path"]
    path.write_bytes(b'{"step": ')
    rebag(package.root)
    assert_fails(verify_package(package.root), "U2", "可用性", package.item("record")["path"])


def test_a_format_not_allowed_for_archiving_fails_usability(package: Built):
    extra = f"data/volumes/{VOLUME_DIR}/items/scan.bmp"
    (package.root / extra).write_bytes(b"BM" + b"\x00" * 64)
    rebag(package.root)
    assert_fails(verify_package(package.root), "U3", "可用性", extra)


def test_an_encrypted_pdf_fails_usability(package: Built):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    rel = package.item("material")["path"]
    (package.root / rel).write_bytes(buffer.getvalue())
    rebag(package.root)
    report = verify_package(package.root)
    assert_fails(report, "U2", "可用性", rel)
    assert any("加密" in p.message for p in report.problems("U2"))


@pytest.mark.parametrize(
    "members",
    [
        pytest.param({"../evil.xml": "<x/>", "[Content_Types].xml": "<Types/>"}, id="traversal"),
        pytest.param({"xl/workbook.xml": "<workbook/>"}, id="no-content-types"),
    ],
)
def test_a_damaged_xlsx_catalogue_fails_usability(package: Built, members: dict[str, str]):
    rel = f"data/volumes/{VOLUME_DIR}/catalogue.xlsx"
    with zipfile.ZipFile(package.root / rel, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    rebag(package.root)
    assert_fails(verify_package(package.root), "U2", "可用性", rel)


def test_an_xlsx_with_an_encrypted_member_fails_usability(package: Built):
    rel = f"data/volumes/{VOLUME_DIR}/catalogue.xlsx"
    path = package.root / rel
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x01  # general purpose flag bit 0: encrypted
    path.write_bytes(bytes(data))
    rebag(package.root)
    report = verify_package(package.root)
    assert_fails(report, "U2", "可用性", rel)
    assert any("加密" in p.message for p in report.problems("U2"))


def test_a_package_reached_through_a_symlinked_path_still_verifies(package: Built, tmp_path: Path):
    link = tmp_path / "link-to-package"
    os.symlink(package.root, link)
    assert verify_package(str(link)).passed


def test_deeply_nested_metadata_and_payloads_give_a_report_not_a_traceback(package: Built):
    tag = "归档信息包".encode()
    (package.root / "data/metadata.xml").write_bytes(
        b"<" + tag + b">" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</" + tag + b">"
    )
    events = package.root / "data/ledger/events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1])
    last["payload"] = "[" * 100_000 + "]" * 100_000
    events.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n", encoding="utf-8")
    rebag(package.root)
    report = verify_package(package.root)
    assert_fails(report, "A3", "真实性", f"全宗 {FONDS} 第 {last['seq']} 号事件")
    assert_fails(report, "C5", "完整性", "metadata.xml")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"<<<this is not xml", id="garbage"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b"<\xe5\xbd\x92\xe6\xa1\xa3\xe4\xbf\xa1\xe6\x81\xaf\xe5\x8c\x85>&b;</\xe5\xbd\x92\xe6\xa1\xa3\xe4\xbf\xa1\xe6\x81\xaf\xe5\x8c\x85>",
            id="entity-bomb",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
            id="external-entity",
        ),
    ],
)
def test_unusable_metadata_xml_gives_a_report_not_a_traceback(package: Built, content: bytes, capsys):
    (package.root / "data/metadata.xml").write_bytes(content)
    rebag(package.root)
    assert main([str(package.root)]) == 1
    out = capsys.readouterr().out
    assert "四性检测未通过" in out
    report = verify_package(package.root)
    assert_fails(report, "U1", "可用性", "data/metadata.xml")
    for dependent in ("A2", "A7", "C1", "C2", "C3", "C5"):
        assert any("无法核验" in p.message for p in report.problems(dependent)), dependent


def test_a_non_json_line_in_the_ledger_is_reported_and_the_other_events_still_checked(package: Built, capsys):
    path = package.root / "data/ledger/events.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + "this is not json\n", encoding="utf-8")
    rebag(package.root)
    assert main([str(package.root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["categories"]["usability"]["passed"] is False
    report = verify_package(package.root)
    assert_fails(report, "U1", "可用性", "data/ledger/events.jsonl 第")
    assert_passes(report, "A3", "A4", "A5", "A6", "A7", "C4")


def test_an_events_file_of_only_garbage_makes_the_ledger_checks_say_they_could_not_run(package: Built):
    (package.root / "data/ledger/events.jsonl").write_bytes(b'\x00\xff garbage\n[1, 2]\n{"seq": true}\n')
    rebag(package.root)
    report = verify_package(package.root)
    assert_fails(report, "U1", "可用性", "data/ledger/events.jsonl")
    for dependent in ("A3", "A4", "A5", "A6", "A7", "C4"):
        assert any("无法核验" in p.message for p in report.problems(dependent)), dependent


# 安全性 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["../evil", "data/../../evil", "/etc/passwd", "data\\evil.pdf"])
def test_a_manifest_entry_outside_the_package_fails_security(package: Built, entry: str):
    with (package.root / "manifest-sha256.txt").open("a", encoding="utf-8") as fh:
        fh.write(f"{'0' * 64}  {entry}\n")
    report = verify_package(package.root)
    assert_fails(report, "S1", "安全性", entry)


def test_an_unsafe_file_name_in_metadata_fails_security_and_is_never_opened(package: Built):
    item = package.item("record")
    edit(package.root / "data/metadata.xml", item["file"], "../../../etc/passwd")
    rebag(package.root)
    report = verify_package(package.root)
    assert_fails(report, "S1", "安全性", "../../../etc/passwd")
    assert_fails(report, "C1", "完整性", item["code"])


def test_a_symlink_inside_data_fails_security_naming_it(package: Built):
    link = f"data/volumes/{VOLUME_DIR}/items/0009-material-9.pdf"
    os.symlink("/etc/passwd", package.root / link)
    assert_fails(verify_package(package.root), "S2", "安全性", link)


def test_a_symlinked_content_file_listed_in_the_manifest_is_not_followed(package: Built):
    item = package.item("material")
    target = package.root.parent / "outside.pdf"
    os.replace(package.root / item["path"], target)
    os.symlink(target, package.root / item["path"])
    report = verify_package(package.root)
    assert_fails(report, "S2", "安全性", item["path"])
    assert_fails(report, "A1", "真实性", item["path"])


def test_a_hard_link_fails_security(package: Built):
    item = package.item("material")
    os.link(package.root / item["path"], package.root.parent / "second-name.pdf")
    assert_fails(verify_package(package.root), "S2", "安全性", item["path"])


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("tool.sh", b"#!/bin/sh\necho hi\n", id="script"),
        pytest.param("0009-material-9.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, id="elf-named-pdf"),
        pytest.param("setup.exe", b"MZ\x90\x00" + b"\x00" * 64, id="pe"),
        pytest.param("notes.js", b"alert(1)\n", id="extension"),
    ],
)
def test_an_executable_added_to_data_and_the_manifest_fails_security(package: Built, name: str, content: bytes):
    rel = f"data/volumes/{VOLUME_DIR}/items/{name}"
    (package.root / rel).write_bytes(content)
    rebag(package.root)
    report = verify_package(package.root)
    assert_passes(report, "A1", "S5")
    assert_fails(report, "S3", "安全性", rel)


def test_an_unlisted_extra_file_fails_security(package: Built):
    rel = "data/volumes/extra.txt"
    (package.root / rel).write_text("不在清单中", encoding="utf-8")
    assert_fails(verify_package(package.root), "S5", "安全性", rel)


def test_an_unknown_tag_file_fails_security(package: Built):
    (package.root / "fetch.txt").write_text("http://example.invalid/x 10 data/x\n", encoding="utf-8")
    assert_fails(verify_package(package.root), "S5", "安全性", "fetch.txt")


def test_files_over_the_size_limits_fail_security(package: Built):
    item = package.item("material")
    report = verify_package(package.root, Limits(max_file_bytes=1000, max_total_bytes=2000))
    assert_fails(report, "S4", "安全性", item["path"])
    assert any("总大小" in p.message for p in report.problems("S4"))


def test_size_limits_are_configurable_on_the_command_line(package: Built, capsys):
    assert main([str(package.root), "--max-file-size", "1K", "--json"]) == 1
    security = json.loads(capsys.readouterr().out)["categories"]["security"]
    s4 = next(c for c in security["checks"] if c["id"] == "S4")
    assert any(p["item"] == package.item("material")["path"] for p in s4["problems"])
    assert main([str(package.root), "--max-file-size", "2G", "--max-total-size", "50GiB"]) == 0


def test_too_many_files_stops_the_scan_and_fails_security(package: Built, capsys):
    assert main([str(package.root), "--max-files", "5"]) == 1
    report = verify_package(package.root, Limits(max_files=5))
    assert_fails(report, "S4", "安全性", "整个信息包")


# Not a package -------------------------------------------------------------------------------------------


def test_a_directory_without_bagit_txt_is_not_a_package_and_exits_3(tmp_path: Path, capsys):
    (tmp_path / "data").mkdir()
    assert main([str(tmp_path)]) == 3
    assert "不是归档信息包" in capsys.readouterr().out
    assert main([str(tmp_path / "missing")]) == 3
    capsys.readouterr()
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    assert main([str(tmp_path / "file.txt"), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and data["is_package"] is False
    assert all(not c["passed"] and not c["checks"] for c in data["categories"].values())
