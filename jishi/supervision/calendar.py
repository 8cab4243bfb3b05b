"""Working days (工作日): official holidays and 调休 via chinese-calendar, corrected by administrators' overrides.

Pure: the overrides are passed in (``supervision.selectors_calendar.work_calendar()`` loads them). For a year the
library does not cover, a date counts as a working day Monday–Friday unless an override says otherwise, and
``uncovered_years`` tells the caller so it can warn administrators — it never crashes and never guesses
silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import chinese_calendar


def library_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class WorkCalendar:
    overrides: Mapping[dt.date, bool] = field(default_factory=dict)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days from start to end, both included (0 when end is before start)."""
        count, day = 0, start
        while day <= end:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date ``days`` working days after start (start itself not counted)."""
        day, left = start, days
        while left > 0:
            day += dt.timedelta(days=1)
            left -= self.is_working_day(day)
        return day

    def uncovered_years(self, days: Iterable[dt.date]) -> list[int]:
        """Years among ``days`` that neither the library nor any override covers."""
        override_years = {d.year for d in self.overrides}
        return sorted({d.year for d in days if not library_covers(d.year) and d.year not in override_years})


DEFAULT = WorkCalendar()


def is_working_day(day: dt.date) -> bool:
    return DEFAULT.is_working_day(day)


def working_days_between(start: dt.date, end: dt.date) -> int:
    return DEFAULT.working_days_between(start, end)
