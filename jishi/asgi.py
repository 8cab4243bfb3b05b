import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
application = get_asgi_application()

if os.environ.get("JISHI_ENV") == "production":
    # Refuse to serve as a role that could rewrite the ledger (docs/deploy.md, "Two database roles").
    from django.db import connection

    from jishi.ledger.dbroles import refuse_privileged_connection

    refuse_privileged_connection(connection)

    from jishi.ops.selfcheck import report_at_startup

    report_at_startup()
