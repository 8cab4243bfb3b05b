"""The database refuses UPDATE of audit records, DELETE of any younger than 184 days, and TRUNCATE
(PostgreSQL), so neither code nor an administrator with the application's role can trim the trail."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit_auditrecord is append-only: UPDATE refused'); END""",
    # Django stores UTC as 'YYYY-MM-DD HH:MM:SS[.ffffff]', which compares as text with datetime().
    """CREATE TRIGGER audit_record_no_early_delete BEFORE DELETE ON audit_auditrecord
       WHEN OLD."at" > datetime('now', '-184 days')
       BEGIN SELECT RAISE(ABORT, 'audit_auditrecord: records younger than 184 days cannot be deleted'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_record_no_update",
    "DROP TRIGGER IF EXISTS audit_record_no_early_delete",
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND OLD."at" < now() - interval '184 days' THEN RETURN OLD; END IF;
         RAISE EXCEPTION 'audit_auditrecord is append-only: % refused', TG_OP;
       END $$""",
    """CREATE TRIGGER audit_record_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditrecord
       FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    """CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_auditrecord
       FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_record_no_update_delete ON audit_auditrecord",
    "DROP TRIGGER IF EXISTS audit_record_no_truncate ON audit_auditrecord",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
