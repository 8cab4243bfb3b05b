"""Reads for the working-day calendar (工作日): the ``WorkCalendar`` the rule engine uses, how far the holiday
data reaches (this year and next), and one month laid out for the calendar page.

The overrides table is small (a few dozen rows a year), so ``work_calendar`` loads all of it in one query.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import chinese_calendar
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .calendar import WorkCalendar, library_covers
from .models import WorkdayOverride

# English holiday names from chinese-calendar → the Chinese names it carries alongside.
HOLIDAY_NAMES: dict[str, str] = {h.value: h.chinese for h in chinese_calendar.Holiday}

KIND_LABELS = {
    "work": _("工作日"),
    "rest": _("休息日"),
    "holiday": _("法定节假日"),
    "adjusted": _("调休上班"),
}


def work_calendar() -> WorkCalendar:
    """Every administrator override, as the pure calendar the rules count working days with (one query)."""
    return WorkCalendar({day: working for day, working in WorkdayOverride.objects.values_list("day", "is_working_day")})


# Coverage -------------------------------------------------------------------------------------------


def uncovered_warning(year: int) -> str:
    return gettext(
        "%(year)s 年的法定节假日安排尚未收录：工作日暂按周一至周五计算，并以管理员录入的调整为准。"
        "请在国务院办公厅公布后录入。"
    ) % {"year": year}


@dataclass(frozen=True)
class YearCoverage:
    year: int
    library: bool  # chinese-calendar knows the official holiday schedule
    overrides: int  # administrator overrides entered for this year

    @property
    def uncovered(self) -> bool:
        """Neither the library nor any override: same test as ``WorkCalendar.uncovered_years``."""
        return not self.library and self.overrides == 0

    @property
    def manual(self) -> bool:
        """Only administrators' overrides describe this year's holidays."""
        return not self.library and self.overrides > 0

    @property
    def warning(self) -> str:
        return uncovered_warning(self.year) if self.uncovered else ""

    @property
    def note(self) -> str:
        if not self.manual:
            return ""
        return gettext("%(year)s 年的节假日安排按管理员录入的 %(n)s 条调整计算；未录入的日期按周一至周五计算。") % {
            "year": self.year,
            "n": self.overrides,
        }


@dataclass(frozen=True)
class CalendarCoverage:
    years: tuple[YearCoverage, ...]

    @property
    def warnings(self) -> list[str]:
        return [y.warning for y in self.years if y.uncovered]

    @property
    def notes(self) -> list[str]:
        return [y.note for y in self.years if y.manual]

    @property
    def uncovered_years(self) -> list[int]:
        return [y.year for y in self.years if y.uncovered]


def calendar_coverage(today: dt.date) -> CalendarCoverage:
    """For this year and next (the years a running 公示 or deadline can fall in): does the library cover it,
    and how many overrides exist (one query)."""
    years = (today.year, today.year + 1)
    counts = dict(
        WorkdayOverride.objects.annotate(year=ExtractYear("day"))
        .filter(year__in=years)
        .values("year")
        .annotate(n=Count("id"))
        .values_list("year", "n")
    )
    return CalendarCoverage(tuple(YearCoverage(y, library_covers(y), counts.get(y, 0)) for y in years))


# The month page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date
    in_month: bool
    is_today: bool
    working: bool
    kind: str  # work | rest | holiday | adjusted
    holiday: str  # the holiday's Chinese name, when the library gives one
    estimated: bool  # the library has no data for the year: Monday–Friday assumed
    override: WorkdayOverride | None

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self.kind])


def day_entry(day: dt.date, *, month: int, today: dt.date, overrides: Mapping[dt.date, WorkdayOverride]) -> CalendarDay:
    """Classify one date. An override decides whether it is worked; the library still names the holiday."""
    override = overrides.get(day)
    weekend = day.weekday() >= 5
    covered = library_covers(day.year)
    holiday_name = ""
    if covered:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        working = not on_holiday
        holiday_name = HOLIDAY_NAMES.get(name, name or "") if name else ""
    else:
        working = not weekend
    if override is not None:
        working = override.is_working_day
    kind = "holiday" if holiday_name or not weekend else "rest"  # a weekday off is always a holiday
    if working:
        kind = "adjusted" if weekend else "work"
    return CalendarDay(
        day=day,
        in_month=day.month == month,
        is_today=day == today,
        working=working,
        kind=kind,
        holiday=holiday_name,
        estimated=not covered and override is None,
        override=override,
    )


@dataclass(frozen=True)
class MonthView:
    year: int
    month: int
    weeks: list[list[CalendarDay]]
    overrides: list[WorkdayOverride]  # every override of the shown year, for the list under the grid
    covered: bool  # the library knows this year's holidays

    @property
    def first(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def previous(self) -> dt.date:
        return (self.first - dt.timedelta(days=1)).replace(day=1)

    @property
    def following(self) -> dt.date:
        return (self.first + dt.timedelta(days=31)).replace(day=1)

    @property
    def working_days(self) -> int:
        return sum(d.working for week in self.weeks for d in week if d.in_month)


def month_view(year: int, month: int, *, today: dt.date) -> MonthView:
    """The month as Monday-first weeks, with the overrides of the whole year (one query)."""
    weeks = stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start = min(weeks[0][0], dt.date(year, 1, 1))
    end = max(weeks[-1][-1], dt.date(year, 12, 31))
    rows = list(WorkdayOverride.objects.filter(day__range=(start, end)).select_related("created_by"))
    by_day = {o.day: o for o in rows}
    return MonthView(
        year=year,
        month=month,
        weeks=[[day_entry(d, month=month, today=today, overrides=by_day) for d in week] for week in weeks],
        overrides=[o for o in rows if o.day.year == year],
        covered=library_covers(year),
    )
