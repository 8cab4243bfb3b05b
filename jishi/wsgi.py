import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jishi.settings")
application = get_wsgi_application()

if os.environ.get("JISHI_ENV") == "production":
    # Refuse to serve as a role that could rewrite the ledger (docs/deploy.md, "Two database roles").
    from django.db import connection

    from jishi.ledger.dbroles import refuse_privileged_connection

    refuse_privileged_connection(connection)

    # The quick self-check prints its problems to the service log (docs/deploy.md, "Self-check"); refusing
    # to start on them is the job of systemd's ExecStartPre (manage.py selfcheck).
    from jishi.ops.selfcheck import report_at_startup

    report_at_startup()
