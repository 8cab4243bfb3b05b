"""Working days (工作日) — official holidays and 调休 via chinese-calendar; weekdays outside its years.

The supervision issue adds an admin-editable override table; until then an uncovered year falls
back to Monday–Friday, which is the documented behaviour for years not yet published.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days from start to end, both included."""
    if end < start:
        return 0
    count = 0
    day = start
    while day <= end:
        count += is_working_day(day)
        day += dt.timedelta(days=1)
    return count
