"""A warning ends only through an action or a signed explanation: the database refuses to delete one."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER supervision_warning_no_delete BEFORE DELETE ON supervision_earlywarning
       BEGIN SELECT RAISE(ABORT, 'supervision_earlywarning: DELETE refused, close the warning instead'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS supervision_warning_no_delete"]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION supervision_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'supervision_earlywarning: % refused, close the warning instead', TG_OP; END $$""",
    """CREATE TRIGGER supervision_warning_no_delete BEFORE DELETE ON supervision_earlywarning
       FOR EACH ROW EXECUTE FUNCTION supervision_refuse_delete()""",
    """CREATE TRIGGER supervision_warning_no_truncate BEFORE TRUNCATE ON supervision_earlywarning
       FOR EACH STATEMENT EXECUTE FUNCTION supervision_refuse_delete()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS supervision_warning_no_delete ON supervision_earlywarning",
    "DROP TRIGGER IF EXISTS supervision_warning_no_truncate ON supervision_earlywarning",
    "DROP FUNCTION IF EXISTS supervision_refuse_delete()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("supervision", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
