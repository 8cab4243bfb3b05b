"""``python -m jishi.verify PACKAGE [--json]``."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
