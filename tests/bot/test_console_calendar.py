"""Working time on the real calendar (issue 13, items 3 and 5): 国庆 and 调休 working weekends from the
chinesecalendar package, fixed dates, Shanghai time; and what a person is told when their case opens."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.console.settings import person_text
from bot.console.workcalendar import WorkCalendar, expected_answer_text, office_hours_text, work_calendar

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
HOUR = dt.timedelta(hours=1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2025, 9, 26), True),  # Friday
        (dt.date(2025, 9, 27), False),  # Saturday
        (dt.date(2025, 9, 28), True),  # Sunday worked for 国庆 (调休)
        (dt.date(2025, 10, 1), False),  # 国庆节
        (dt.date(2025, 10, 8), False),  # last day of the 2025 国庆/中秋 break (a Wednesday)
        (dt.date(2025, 10, 9), True),
        (dt.date(2025, 10, 11), True),  # Saturday worked (调休)
        (dt.date(2026, 10, 7), False),  # 国庆 2026
        (dt.date(2026, 10, 10), True),  # Saturday worked (调休)
        (dt.date(2026, 11, 28), False),  # an ordinary Saturday
    ],
)
def test_working_days_follow_public_holidays_and_tiaoxiu(day: dt.date, working: bool) -> None:
    assert work_calendar().is_working_day(day) is working


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at(2026, 11, 23, 9, 0), True),  # Monday 09:00
        (at(2026, 11, 23, 16, 59), True),
        (at(2026, 11, 23, 17, 0), False),
        (at(2026, 11, 28, 10, 0), False),  # Saturday
        (at(2025, 10, 2, 10, 0), False),  # a Thursday in 国庆
        (at(2025, 10, 11, 10, 0), True),  # the 调休 Saturday
    ],
)
def test_office_hours_in_shanghai_time(moment: dt.datetime, is_open: bool) -> None:
    assert work_calendar().is_open(moment.astimezone(dt.timezone.utc)) is is_open


def test_working_time_runs_across_guoqing_and_onto_a_tiaoxiu_saturday() -> None:
    calendar = work_calendar()
    # Tuesday 30 Sep 2025, 16:30: half an hour left, then the office is closed 1–8 October
    assert calendar.add_working_time(at(2025, 9, 30, 16, 30), HOUR) == at(2025, 10, 9, 9, 30)
    assert calendar.working_time_between(at(2025, 9, 30, 16, 0), at(2025, 10, 9, 10, 0)) == 2 * HOUR
    # Friday 10 Oct 16:00 + 2 h: the 调休 Saturday 11 Oct counts
    assert calendar.add_working_time(at(2025, 10, 10, 16, 0), 2 * HOUR) == at(2025, 10, 11, 10, 0)
    # the Friday after, + 2 h: an ordinary Saturday and Sunday do not
    assert calendar.add_working_time(at(2025, 10, 17, 16, 0), 2 * HOUR) == at(2025, 10, 20, 10, 0)
    # from a closed moment: the clock starts at the next opening; stored naive UTC works the same
    assert calendar.add_working_time(at(2025, 10, 3, 12, 0), HOUR) == at(2025, 10, 9, 10, 0)
    naive_utc = at(2025, 10, 3, 12, 0).astimezone(dt.timezone.utc).replace(tzinfo=None)
    assert calendar.add_working_time(naive_utc, HOUR) == at(2025, 10, 9, 10, 0)
    assert calendar.next_opening(at(2025, 9, 30, 17, 30)) == at(2025, 10, 9, 9, 0)
    assert calendar.next_opening(at(2026, 10, 9, 18, 0)) == at(2026, 10, 10, 9, 0)  # 调休 Saturday
    assert calendar.working_time_between(at(2025, 10, 9, 10, 0), at(2025, 10, 9, 9, 0)) == dt.timedelta(0)


def test_a_year_without_holiday_data_falls_back_to_the_configured_weekdays() -> None:
    calendar = work_calendar()
    assert not calendar.covered(dt.date(2040, 10, 1)) and calendar.covered(dt.date(2026, 10, 1))
    assert calendar.is_working_day(dt.date(2040, 10, 1))  # a Monday; no holiday data for 2040
    assert not calendar.is_working_day(dt.date(2040, 10, 6))  # a Saturday
    assert isinstance(calendar, WorkCalendar)


def test_the_person_is_told_when_a_human_answers_on_the_real_calendar() -> None:
    monday_morning = at(2026, 11, 23, 10, 0)
    assert expected_answer_text(monday_morning, "zh") == person_text(
        "case_opened_in_hours", "zh", minutes=30, hours=office_hours_text("zh")
    )
    assert office_hours_text("zh") == "工作日 9:00–17:00，法定节假日除外"
    friday_evening = at(2026, 11, 27, 20, 0)
    assert "11月30日（周一）09:00" in expected_answer_text(friday_evening, "zh")
    assert "after Monday 2026-11-30 09:00" in expected_answer_text(friday_evening, "en")
    # a handoff on 国庆 day: the answer comes on the first working day after the holiday
    national_day = at(2025, 10, 1, 11, 0)
    assert "10月9日（周四）09:00" in expected_answer_text(national_day, "zh")
    # Friday evening before the 调休 Saturday 2026-10-10: the Saturday, not Monday
    assert "10月10日（周六）09:00" in expected_answer_text(at(2026, 10, 9, 18, 0), "zh")


def test_exported_times_are_the_offices_local_clock() -> None:
    from bot.console.render import local_text

    assert local_text(dt.datetime(2026, 11, 23, 1, 30)) == "2026-11-23 09:30:00"  # stored naive UTC
    assert local_text(dt.datetime(2026, 11, 23, 17, 0)) == "2026-11-24 01:00:00"
    assert local_text(None) == "—"
