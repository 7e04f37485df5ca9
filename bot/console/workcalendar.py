"""Office hours on the real calendar: which days the office works, and arithmetic in working time.

The office's hours live in console.yml (``office_hours``; the one home). Which days are working days
comes from the ``chinesecalendar`` package (the State Council's public holidays and the 调休 weekends
worked in their place, shipped as data: nothing is fetched at run time). For a year the installed
package does not know yet, the configured weekdays are used, and ``covered`` says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

from .settings import config, person_text


@dataclass(frozen=True)
class WorkCalendar:
    zone: dt.timezone
    start: dt.time
    end: dt.time
    fallback_weekdays: tuple[int, ...]  # ISO weekdays, for years the holiday data does not cover
    typical_wait_minutes: int

    @classmethod
    def from_config(cls) -> WorkCalendar:
        hours = config()["office_hours"]
        return cls(
            zone=dt.timezone(dt.timedelta(hours=int(hours["utc_offset_hours"]))),
            start=dt.time.fromisoformat(hours["start"]),
            end=dt.time.fromisoformat(hours["end"]),
            fallback_weekdays=tuple(int(d) for d in hours["weekdays"]),
            typical_wait_minutes=int(hours["typical_wait_minutes"]),
        )

    # -- days ----------------------------------------------------------------------------------------
    @staticmethod
    def covered(day: dt.date) -> bool:
        """Does the installed holiday data know this day's year?"""
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_working_day(self, day: dt.date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))  # holidays off, 调休 weekends on
        except NotImplementedError:
            return day.isoweekday() in self.fallback_weekdays

    # -- moments -------------------------------------------------------------------------------------
    def local(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` (aware, or naive UTC as stored) in the office's time zone."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(self.zone)

    def is_open(self, moment: dt.datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The next moment the office opens (local time), strictly after ``moment``."""
        local = self.local(moment)
        day = local.date()
        for _ in range(60):  # the longest run of closed days (春节 with its weekends) is far shorter
            opening = dt.datetime.combine(day, self.start, tzinfo=self.zone)
            if opening > local and self.is_working_day(day):
                return opening
            day += dt.timedelta(days=1)
        raise ValueError("no working day within 60 days: check office_hours")

    def _periods(self, local: dt.datetime):
        """Open periods (start, end) from the one containing or following ``local`` onwards."""
        day = local.date()
        while True:
            if self.is_working_day(day):
                opening = dt.datetime.combine(day, self.start, tzinfo=self.zone)
                closing = dt.datetime.combine(day, self.end, tzinfo=self.zone)
                if closing > local:
                    yield max(opening, local), closing
            day += dt.timedelta(days=1)

    def add_working_time(self, moment: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """When ``amount`` of working time has passed after ``moment`` (local time)."""
        left = amount
        for begin, finish in self._periods(self.local(moment)):
            if finish - begin >= left:
                return begin + left
            left -= finish - begin
        raise AssertionError("unreachable")  # _periods never ends

    def working_time_between(self, since: dt.datetime, until: dt.datetime) -> dt.timedelta:
        """Working time from ``since`` to ``until`` (zero when ``until`` is not later)."""
        since, until = self.local(since), self.local(until)
        total = dt.timedelta(0)
        if until <= since:
            return total
        for begin, finish in self._periods(since):
            if begin >= until:
                break
            total += min(finish, until) - begin
        return total


@lru_cache(maxsize=1)
def work_calendar() -> WorkCalendar:
    return WorkCalendar.from_config()


def office_hours_text(language: str) -> str:
    """'工作日 9:00–17:00 …' from the configured hours (console.yml ``person_texts.hours``)."""
    calendar = work_calendar()
    clock = lambda t: f"{t.hour}:{t.minute:02d}"  # noqa: E731
    return person_text("hours", language, start=clock(calendar.start), end=clock(calendar.end))


def next_opening_text(now: dt.datetime, language: str) -> str | None:
    """None while the office is open; else when it opens next, as a person reads it ("10月9日（周四）09:00")."""
    calendar = work_calendar()
    if calendar.is_open(now):
        return None
    opening = calendar.next_opening(now)
    names = config()["person_texts"]["weekday_names"]
    return person_text(
        "next_opening",
        language,
        weekday=(names.get(language) or names["zh"])[opening.isoweekday()],
        month=opening.month,
        day=opening.day,
        date=opening.date().isoformat(),
        time=opening.strftime("%H:%M"),
    )


def expected_answer_text(now: dt.datetime, language: str) -> str:
    """What a person is told when their case opens: roughly when a human will answer, on the real
    calendar (after a holiday the next opening is its first working day, a 调休 Saturday included)."""
    office = office_hours_text(language)
    when = next_opening_text(now, language)
    if when is None:
        minutes = work_calendar().typical_wait_minutes
        return person_text("case_opened_in_hours", language, minutes=minutes, hours=office)
    return person_text("case_opened_after_hours", language, when=when, hours=office)
