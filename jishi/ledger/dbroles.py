"""PostgreSQL roles: the application connects as a role that cannot UPDATE, DELETE or TRUNCATE
ledger tables; migrations run as the owner. Production refuses to serve as superuser or owner."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper

LEDGER_TABLES = ("ledger_event", "ledger_signature", "ledger_checkpoint")


def app_role_grants(role: str) -> list[str]:
    """SQL (run as the owner, after every migrate) giving ``role`` what the application needs."""
    if not role.replace("_", "").isalnum():
        raise ValueError("role names are letters, digits and underscores")
    tables = ", ".join(LEDGER_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {tables} FROM {role}",
    ]


def privileged_connection_problem(connection: BaseDatabaseWrapper) -> str | None:
    """Why this connection must not serve the application (superuser or owner of ledger tables), or None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, is_super = cursor.fetchone()
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE tableowner = current_user AND tablename = ANY(%s)",
            [list(LEDGER_TABLES)],
        )
        owned = [row[0] for row in cursor.fetchall()]
    if is_super:
        return f"数据库用户 {user} 是超级用户：生产环境必须使用不能修改台账的应用角色连接。"
    if owned:
        return f"数据库用户 {user} 拥有台账表 {', '.join(owned)}：生产环境必须使用应用角色，迁移才用属主角色。"
    return None


def refuse_privileged_connection(connection: BaseDatabaseWrapper) -> None:
    problem = privileged_connection_problem(connection)
    if problem:
        raise ImproperlyConfigured(problem)
