"""Signatures and checkpoints are evidence too: append-only in the database, like events."""

from django.db import migrations

TABLES = ("ledger_signature", "ledger_checkpoint")


def _sql(vendor: str, reverse: bool) -> list[str]:
    statements = []
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                name = f"{table}_no_{op.lower()}"
                statements.append(
                    f"DROP TRIGGER IF EXISTS {name}"
                    if reverse
                    else f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
                )
        elif vendor == "postgresql":
            if reverse:
                statements += [
                    f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}",
                    f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                ]
            else:
                statements += [
                    f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
                ]
    return statements


def forward(apps, schema_editor):
    for sql in _sql(schema_editor.connection.vendor, reverse=False):
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    for sql in _sql(schema_editor.connection.vendor, reverse=True):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_systemkey_chain_frontier_checkpoint_signature")]

    operations = [migrations.RunPython(forward, backward)]
