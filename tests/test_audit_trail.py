"""The security audit trail: request ids, sensitive views and exports, refusals, the auditor's search and
export, retention (archive command) and the database's append-only guard (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jishi.accounts.models import User
from jishi.accounts.services import role_grant, user_create
from jishi.audit.models import AuditRecord
from jishi.core.roles import Role
from jishi.core.testing import PASSWORD
from tests.api_helpers import ApiClient

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _of(response) -> list[AuditRecord]:
    """The audit records written while serving this response."""
    return list(AuditRecord.objects.filter(request_id=response["X-Request-ID"]).order_by("id"))


def _old(days: int, **fields) -> AuditRecord:
    fields.setdefault("event", "login")
    fields.setdefault("org_unit", "J001")
    return AuditRecord.objects.create(at=timezone.now() - dt.timedelta(days=days), **fields)


# Request ids --------------------------------------------------------------------------------------------


def test_every_response_carries_a_fresh_request_id(client):
    first, second = client.get(reverse("login")), client.get(reverse("login"))
    ids = [first["X-Request-ID"], second["X-Request-ID"]]
    assert all(uuid.UUID(i).version == 4 for i in ids) and ids[0] != ids[1]
    assert AuditRecord.objects.filter(request_id__in=ids).count() == 0  # an ordinary page is not audited


# Sensitive views and exports ----------------------------------------------------------------------------


def test_viewing_a_cadre_writes_exactly_one_record_naming_user_address_and_cadre(world):
    cadre = world.cadres[0]
    response = _client(world.alice).get(reverse("cadre_detail", args=[cadre.pk]), HTTP_X_REAL_IP="10.20.30.40")
    assert response.status_code == 200
    [record] = _of(response)
    assert (record.event, record.outcome, record.username, record.org_unit) == (
        "sensitive.view",
        "success",
        "alice",
        "J001",
    )
    assert (record.object_type, record.object_id, record.ip) == ("cadre", str(cadre.pk), "10.20.30.40")
    assert (record.method, record.path, record.detail["status"]) == ("GET", f"/cadres/{cadre.pk}/", 200)


def test_exporting_an_lrmx_file_writes_one_export_record(world):
    cadre = world.cadres[1]
    response = _client(world.bob).get(reverse("cadre_lrmx_export", args=[cadre.pk]))
    assert response.status_code == 200
    [record] = _of(response)
    assert (record.event, record.username, record.object_type, record.object_id) == (
        "sensitive.export",
        "bob",
        "cadre",
        str(cadre.pk),
    )


def test_the_api_equivalents_are_audited_like_the_pages(world):
    api = ApiClient(world.alice)
    cadre = world.cadres[0]
    shown = api.client.get(f"/api/v1/cadres/{cadre.pk}")
    exported = api.client.get(f"/api/v1/cadres/{cadre.pk}/lrmx")
    listed = api.client.get("/api/v1/cadres")
    assert (shown.status_code, exported.status_code, listed.status_code) == (200, 200, 200)
    assert [(r.event, r.username, r.object_id) for r in _of(shown)] == [("sensitive.view", "alice", str(cadre.pk))]
    assert [(r.event, r.object_type) for r in _of(exported)] == [("sensitive.export", "cadre")]
    assert _of(listed) == []


def test_a_refused_sensitive_view_is_one_failure_record(world):
    response = _client(world.sam).get(reverse("cadre_detail", args=[world.cadres[0].pk]))
    assert response.status_code == 403
    [record] = _of(response)
    assert (record.event, record.outcome, record.username, record.detail["status"]) == (
        "sensitive.view",
        "failure",
        "sam",
        403,
    )


# Refusals anywhere ----------------------------------------------------------------------------------------


def test_a_403_anywhere_records_a_failure(world, batch):
    response = _client(world.sam).get(reverse("batch_detail", args=[batch.pk]))
    assert response.status_code == 403
    [record] = _of(response)
    assert (record.event, record.outcome, record.username) == ("access.denied", "failure", "sam")
    assert (record.path, record.detail["view"]) == (f"/batches/{batch.pk}/", "batch_detail")


def test_an_api_request_without_a_valid_token_is_recorded_as_refused(world):
    response = Client(HTTP_AUTHORIZATION="Bearer jsk_not-a-token").get("/api/v1/batches")
    assert response.status_code == 401
    [record] = _of(response)
    assert (record.event, record.outcome, record.username) == ("access.denied", "failure", "")


def test_a_refused_change_recorded_by_its_service_is_not_recorded_twice(world):
    response = _client(world.sam).post(reverse("role_admin"), {"user": world.oscar.pk, "org_unit": "J001"})
    assert response.status_code == 403  # the page itself is the 安全管理员's
    assert [r.event for r in _of(response)] == ["access.denied"]
    refused = _client(world.sue).post(
        reverse("role_admin"), {"user": world.sam.pk, "org_unit": "J001", "role": Role.AUDITOR.value}
    )
    assert refused.status_code == 400
    assert [(r.event, r.outcome) for r in _of(refused)] == [("role.grant", "failure")]
    to_himself = _client(world.sue).post(
        reverse("role_admin"), {"user": world.sue.pk, "org_unit": "J002", "role": Role.SECADMIN.value}
    )
    assert to_himself.status_code == 403
    assert [(r.event, r.outcome, r.username) for r in _of(to_himself)] == [("role.grant", "failure", "sue")]


# The auditor's search -------------------------------------------------------------------------------------


@pytest.fixture
def trail(world):
    """Five records of known content, at known times (J001, J002, and one naming no unit)."""
    now = timezone.now()
    rows = [
        dict(event="login", outcome="failure", username="alice", org_unit="J001", ip="10.0.0.1", days=3),
        dict(event="login", outcome="success", username="alice", org_unit="J001", ip="10.0.0.1", days=2),
        dict(event="sensitive.export", username="bob", org_unit="J001", object_type="cadre", object_id="7", days=1),
        dict(event="login", outcome="failure", username="grace", org_unit="J002", ip="10.0.0.9", days=1),
        dict(event="login", outcome="failure", username="nobody", org_unit="", ip="10.6.6.6", days=1),
    ]
    made = []
    for row in rows:
        days = row.pop("days")
        made.append(AuditRecord.objects.create(at=now - dt.timedelta(days=days, minutes=len(made)), **row))
    return made


def _found(response) -> set[int]:
    return {r.pk for r in response.context["page"]} if response.context["page"] is not None else set()


def test_the_auditor_filters_by_user_event_outcome_address_object_and_time(world, trail):
    client = _client(world.ivan)
    url = reverse("audit_search")
    a_fail, a_ok, export, county, stranger = (r.pk for r in trail)
    assert {a_fail, a_ok} <= _found(client.get(url, {"username": "alice"}))
    assert _found(client.get(url, {"username": "alice", "outcome": "failure"})) == {a_fail}
    assert _found(client.get(url, {"ip": "10.0.0.1", "event": "login"})) == {a_fail, a_ok}
    assert _found(client.get(url, {"object_type": "cadre", "object_id": "7"})) == {export}
    assert export in _found(client.get(url, {"event": "sensitive"}))  # a family of events
    start = timezone.localtime(timezone.now() - dt.timedelta(days=2, hours=12)).strftime("%Y-%m-%dT%H:%M")
    end = timezone.localtime(timezone.now() - dt.timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M")
    assert {a_ok, export, county, stranger} <= _found(client.get(url, {"start": start, "end": end}))
    assert a_fail not in _found(client.get(url, {"start": start, "end": end}))
    # County records are the city auditor's too (a unit below); records naming no unit are top-level auditors'.
    assert {county, stranger} <= _found(client.get(url, {"outcome": "failure"}))


def test_the_newest_record_comes_first_and_a_page_holds_fifty(world, trail):
    AuditRecord.objects.bulk_create(
        [AuditRecord(event="logout", username="alice", org_unit="J001", at=timezone.now()) for _ in range(60)]
    )
    page = _client(world.ivan).get(reverse("audit_search")).context["page"]
    assert len(page.object_list) == 50 and page.paginator.num_pages >= 2
    ats = [r.at for r in page.object_list]
    assert ats == sorted(ats, reverse=True)


def test_a_county_auditor_sees_only_his_county(world, trail):
    auditor = user_create(
        actor=None, org_unit=world.county, username="caud", full_name="县审计员", title="", password=PASSWORD
    )
    role_grant(actor=None, user=auditor, org_unit=world.county, role=Role.AUDITOR)
    found = _found(_client(auditor).get(reverse("audit_search"), {"outcome": "failure"}))
    assert trail[3].pk in found
    assert not found & {trail[0].pk, trail[4].pk}


def test_searching_is_itself_audited(world, trail):
    response = _client(world.ivan).get(reverse("audit_search"), {"username": "alice", "page": "1"})
    [record] = _of(response)
    assert (record.event, record.username, record.detail["username"]) == ("audit.search", "ivan", "alice")


def test_bad_filters_are_shown_with_the_values_kept(world):
    response = _client(world.ivan).get(
        reverse("audit_search"), {"start": "去年", "ip": "10.0.0.999", "username": "bob"}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "时间格式" in text and "IP" in text and 'value="bob"' in text and 'value="去年"' in text
    assert _of(response)[0].outcome == "failure"


@pytest.mark.parametrize("name", ["sam", "sue", "alice", "erin"])
def test_nobody_but_an_auditor_reads_the_audit(world, trail, name):
    client = _client(world.users[name])
    for url in (reverse("audit_search"), reverse("audit_export")):
        response = client.get(url)
        assert response.status_code == 403
        assert [r.event for r in _of(response)] == ["access.denied"]


def test_the_csv_export_holds_the_filtered_records_defuses_formulas_and_is_audited(world, trail):
    AuditRecord.objects.create(event="login", outcome="failure", username="=HYPERLINK(1)", org_unit="J001")
    response = _client(world.ivan).get(reverse("audit_export"), {"outcome": "failure"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["时间", "事件类型", "结果"]
    usernames = [row[3] for row in rows[1:]]
    assert {"alice", "grace", "nobody", "'=HYPERLINK(1)"} <= set(usernames) and "bob" not in usernames
    [record] = _of(response)
    assert (record.event, record.username, record.detail["rows"]) == ("audit.export", "ivan", len(rows) - 1)


# Retention and archiving ------------------------------------------------------------------------------------


def test_archiving_writes_old_records_to_a_file_with_its_digest_then_deletes_only_them(world, tmp_path):
    old = [_old(400, username="alice"), _old(390, username="bob", detail={"k": "值"})]
    young = _old(200, username="carol")
    out = tmp_path / "audit-old.jsonl"
    before = (timezone.localdate() - dt.timedelta(days=380)).isoformat()
    call_command("audit", "archive", "--before", before, "-o", str(out), stdout=io.StringIO())

    lines = out.read_bytes().splitlines(keepends=True)
    assert [json.loads(line)["id"] for line in lines] == [r.pk for r in old]
    assert json.loads(lines[1])["detail"] == {"k": "值"}
    digest, name = (tmp_path / "audit-old.jsonl.sha256").read_text().split()
    assert (digest, name) == (hashlib.sha256(out.read_bytes()).hexdigest(), "audit-old.jsonl")
    assert not AuditRecord.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert AuditRecord.objects.filter(pk=young.pk).exists()
    [record] = AuditRecord.objects.filter(event="audit.archive")
    assert (record.detail["rows"], record.detail["sha256"]) == (2, digest)


def test_archiving_refuses_a_date_inside_the_retention_and_never_tries_to_delete(world, tmp_path, settings):
    settings.JISHI_AUDIT_RETENTION_DAYS = 184
    _old(190)
    before = (timezone.localdate() - dt.timedelta(days=100)).isoformat()
    with CaptureQueriesContext(connection) as queries, pytest.raises(CommandError, match="保存期"):
        call_command("audit", "archive", "--before", before, "-o", str(tmp_path / "x.jsonl"))
    assert not any("DELETE" in q["sql"].upper() for q in queries.captured_queries)
    assert not (tmp_path / "x.jsonl").exists()
    assert AuditRecord.objects.count() > 0


def test_archiving_never_overwrites_an_existing_file(world, tmp_path):
    out = tmp_path / "a.jsonl"
    out.write_text("kept")
    _old(400)
    with pytest.raises(CommandError, match="已存在"):
        call_command("audit", "archive", "--before", "2000-01-01", "-o", str(out))
    assert out.read_text() == "kept"


def test_a_retention_below_184_days_is_a_system_check_error(settings):
    settings.JISHI_AUDIT_RETENTION_DAYS = 100
    assert "jishi.audit.E001" in [m.id for m in run_checks()]
    settings.JISHI_AUDIT_RETENTION_DAYS = 184
    assert "jishi.audit.E001" not in [m.id for m in run_checks()]


def test_the_search_command_needs_an_auditor_and_prints_the_matches(world, trail):
    with pytest.raises(CommandError, match="安全审计员"):
        call_command("audit", "search", "--user", "sam")
    out = io.StringIO()
    call_command("audit", "search", "--user", "ivan", "--username", "grace", stdout=out)
    assert "grace" in out.getvalue() and "alice" not in out.getvalue() and "共 1 条" in out.getvalue()
    [record] = AuditRecord.objects.filter(event="audit.search", username="ivan")
    assert record.detail == {"username": "grace", "via": "command"}


# The database guards the table -------------------------------------------------------------------------------


def _refused(statement) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        statement()


def test_the_database_refuses_updating_any_record_and_deleting_a_young_one(world):
    young, old = _old(10), _old(200)
    _refused(lambda: AuditRecord.objects.filter(pk=young.pk).update(outcome="failure"))
    _refused(lambda: AuditRecord.objects.filter(pk=old.pk).update(username="someone-else"))
    _refused(lambda: AuditRecord.objects.filter(pk=young.pk).delete())
    with connection.cursor() as cursor:
        _refused(lambda: cursor.execute("DELETE FROM audit_auditrecord WHERE id = %s", [young.pk]))
    assert AuditRecord.objects.get(pk=young.pk).outcome == "success"
    AuditRecord.objects.filter(pk=old.pk).delete()  # past 184 days the archive command may remove it
    assert not AuditRecord.objects.filter(pk=old.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE triggers exist on PostgreSQL only")
def test_postgresql_refuses_truncating_the_table(world):
    _old(1)
    with connection.cursor() as cursor:
        _refused(lambda: cursor.execute("TRUNCATE audit_auditrecord"))
    assert AuditRecord.objects.exists()
