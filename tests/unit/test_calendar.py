"""The working-day calendar: official spans and swaps, counting, cutoffs, coverage and holiday files."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.calendar import BUILTIN_DIR, CalendarNotCovered, WorkingCalendar, parse_holiday_file
from models.errors import BadInput
from models.localtime import LOCAL_TZ
from models.yaml_source import SourceError

CALENDAR = WorkingCalendar.load()
PROVISIONAL_2027 = (
    "2027 working days come from a provisional holiday file (models/holidays/2027.yaml): only the "
    "holidays fixed by law; the make-up days for holidays on a weekend and the adjusted working "
    "weekends are not yet published"
)
NOT_COVERED_2028 = (
    "2028 is not covered by the working-day calendar: chinese-calendar covers 2004–2026 and holiday "
    "files cover 2027 (models/holidays/2027.yaml); add 2028.yaml to DUCHA_HOLIDAY_DIR once the State "
    "Council publishes the 2028 holidays"
)
# A holiday file for 2028 as an office would write it (the dates are made up for the tests).
FILE_2028 = """\
year: 2028
provisional: false
source: 国办发明电〔2027〕1号 (test)
holidays:
  - name: 元旦 New Year's Day
    date: 2028-01-01
  - name: 春节 Spring Festival
    from: 2028-01-25
    to: 2028-01-31
adjusted_working_days:
  - date: 2028-02-05
    name: 春节调休
"""


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(tmp_path: Path, text: str, name: str = "2028.yaml") -> list[str]:
    path = write(tmp_path, name, text)
    with pytest.raises(SourceError) as raised:
        parse_holiday_file(text, path)
    return raised.value.lines()


# --- the official calendar (chinese-calendar) ----------------------------------------------------


def test_2026_spring_festival_span_and_its_adjusted_saturdays_follow_the_library() -> None:
    assert set(chinese_calendar.get_holidays(date(2026, 2, 10), date(2026, 2, 28))) >= set(
        days(date(2026, 2, 15), date(2026, 2, 23))
    )
    assert {d for d in chinese_calendar.workdays if d.year == 2026 and d.month == 2} == {
        date(2026, 2, 14),
        date(2026, 2, 28),
    }
    assert not any(CALENDAR.is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert CALENDAR.is_working_day(date(2026, 2, 14))  # Saturday, adjusted working day
    assert CALENDAR.is_working_day(date(2026, 2, 28))  # Saturday, adjusted working day
    assert CALENDAR.is_working_day(date(2026, 2, 24))  # Tuesday, first day back
    assert not CALENDAR.is_working_day(date(2026, 2, 21))  # Saturday inside the span


def test_2026_national_day_span_and_its_adjusted_weekend_days_follow_the_library() -> None:
    assert set(days(date(2026, 10, 1), date(2026, 10, 7))) <= set(chinese_calendar.holidays)
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= set(chinese_calendar.workdays)
    assert not any(CALENDAR.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert CALENDAR.is_working_day(date(2026, 9, 20))  # Sunday, adjusted working day
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # Saturday, adjusted working day
    assert not CALENDAR.is_working_day(date(2026, 10, 11))  # the Sunday after stays a rest day


def test_every_day_of_2025_and_2026_agrees_with_the_library() -> None:
    for day in days(date(2025, 1, 1), date(2026, 12, 31)):
        assert CALENDAR.is_working_day(day) == chinese_calendar.is_workday(day), day


def test_adding_working_days_steps_over_the_2026_spring_festival() -> None:
    friday = date(2026, 2, 13)
    assert CALENDAR.add_working_days(friday, 1) == date(2026, 2, 14)  # the adjusted Saturday
    assert CALENDAR.add_working_days(friday, 2) == date(2026, 2, 24)
    assert CALENDAR.add_working_days(friday, 6) == date(2026, 2, 28)  # Tue..Fri, then Saturday
    assert CALENDAR.working_days_between(friday, date(2026, 2, 24)) == 2
    assert CALENDAR.working_days_between(date(2026, 2, 24), friday) == -2
    assert CALENDAR.working_days_between(friday, friday) == 0


def test_adding_working_days_steps_over_the_2026_national_day() -> None:
    assert CALENDAR.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)  # Sunday worked
    assert CALENDAR.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CALENDAR.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)  # Saturday worked
    assert CALENDAR.add_working_days(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4


def test_zero_working_days_is_the_day_itself_or_the_next_working_day() -> None:
    assert CALENDAR.add_working_days(date(2026, 2, 13), 0) == date(2026, 2, 13)
    assert CALENDAR.add_working_days(date(2026, 2, 14), 0) == date(2026, 2, 14)  # adjusted Saturday
    assert CALENDAR.add_working_days(date(2026, 2, 15), 0) == date(2026, 2, 24)


def test_negative_working_days_count_back() -> None:
    assert CALENDAR.add_working_days(date(2026, 2, 24), -1) == date(2026, 2, 14)
    assert CALENDAR.add_working_days(date(2026, 2, 24), -2) == date(2026, 2, 13)
    assert CALENDAR.add_working_days(date(2026, 1, 5), -1) == date(2026, 1, 4)  # Sunday worked
    assert CALENDAR.add_working_days(date(2026, 1, 5), -2) == date(2025, 12, 31)  # across a year


def test_adding_a_years_worth_of_working_days_crosses_into_the_next_year() -> None:
    assert CALENDAR.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)  # Sunday worked
    end = CALENDAR.add_working_days(date(2004, 1, 1), 5000)
    assert CALENDAR.working_days_between(date(2004, 1, 1), end) == 5000


# --- instants: the 17:30 cutoff and the end of a day ---------------------------------------------


def test_within_n_working_days_ends_at_1730_shanghai_on_the_nth_working_day() -> None:
    after_hours = datetime(2026, 2, 13, 18, 0, tzinfo=LOCAL_TZ)  # Friday 18:00, still counts from Friday
    assert CALENDAR.deadline_after_working_days(after_hours, 1) == datetime(2026, 2, 14, 9, 30, tzinfo=UTC)
    due = CALENDAR.deadline_after_working_days(after_hours, 2)
    assert due == datetime(2026, 2, 24, 9, 30, tzinfo=UTC)
    assert due.utcoffset() == timedelta(0)
    assert due.astimezone(LOCAL_TZ).time() == time(17, 30)


def test_the_count_starts_from_the_shanghai_date_not_the_utc_date() -> None:
    # 17:00 UTC on Friday 13 February is 01:00 on Saturday 14 February in Shanghai.
    start = datetime(2026, 2, 13, 17, 0, tzinfo=UTC)
    assert CALENDAR.deadline_after_working_days(start, 1) == datetime(2026, 2, 24, 9, 30, tzinfo=UTC)


def test_the_cutoff_can_be_moved_and_must_be_a_wall_time() -> None:
    start = datetime(2026, 9, 30, 9, 0, tzinfo=LOCAL_TZ)
    nine = CALENDAR.deadline_after_working_days(start, 1, cutoff=time(9, 0))
    assert nine == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="without a time zone"):
        CALENDAR.deadline_after_working_days(start, 1, cutoff=time(9, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="no time zone"):
        CALENDAR.deadline_after_working_days(datetime(2026, 9, 30, 9, 0), 1)


def test_a_date_only_deadline_falls_due_at_the_end_of_that_shanghai_day() -> None:
    end = WorkingCalendar.end_of_day(date(2026, 12, 31))
    assert end == datetime(2026, 12, 31, 15, 59, 59, 999_999, tzinfo=UTC)
    assert end.astimezone(LOCAL_TZ).date() == date(2026, 12, 31)
    assert CALENDAR.end_of_day(date(2026, 12, 31), time(17, 30)) == datetime(2026, 12, 31, 9, 30, tzinfo=UTC)


# --- coverage: 2027 provisional, 2028 refused ----------------------------------------------------


def test_2027_comes_from_the_provisional_built_in_file() -> None:
    coverage = CALENDAR.coverage(2027)
    assert (coverage.covered, coverage.source, coverage.provisional) == (True, "holiday file", True)
    assert coverage.file == BUILTIN_DIR / "2027.yaml"
    assert (coverage.holiday_count, coverage.adjusted_working_day_count) == (13, 0)
    assert coverage.warning == PROVISIONAL_2027
    assert CALENDAR.warnings_for(date(2026, 12, 1), date(2027, 1, 10)) == [PROVISIONAL_2027]
    assert CALENDAR.warnings_for(date(2027, 1, 10), date(2026, 12, 1)) == [PROVISIONAL_2027]
    assert CALENDAR.warnings_for(date(2026, 1, 1), date(2026, 12, 31)) == []


def test_the_2027_file_holds_the_statutory_holidays_only() -> None:
    holiday_file = parse_holiday_file(
        (BUILTIN_DIR / "2027.yaml").read_text(encoding="utf-8"), BUILTIN_DIR / "2027.yaml"
    )
    assert sorted(holiday_file.holidays) == [
        date(2027, 1, 1),
        *days(date(2027, 2, 5), date(2027, 2, 8)),  # 除夕 to 正月初三
        date(2027, 4, 5),
        date(2027, 5, 1),
        date(2027, 5, 2),
        date(2027, 6, 9),
        date(2027, 9, 15),
        *days(date(2027, 10, 1), date(2027, 10, 3)),
    ]
    assert holiday_file.adjusted_working_days == {}
    assert not CALENDAR.is_working_day(date(2027, 2, 5))  # 除夕, a Friday
    assert CALENDAR.is_working_day(date(2027, 2, 9))  # no make-up day published yet
    assert CALENDAR.add_working_days(date(2027, 2, 4), 1) == date(2027, 2, 9)


def test_a_2028_date_is_refused_naming_the_year_and_the_file_to_add() -> None:
    with pytest.raises(CalendarNotCovered) as raised:
        CALENDAR.is_working_day(date(2028, 1, 3))
    assert str(raised.value) == NOT_COVERED_2028
    assert raised.value.year == 2028
    assert isinstance(raised.value, BadInput)  # the CLI reports it (exit 2); it is not a bug
    with pytest.raises(CalendarNotCovered, match="^2028 is not covered"):
        CALENDAR.add_working_days(date(2027, 12, 20), 20)
    with pytest.raises(CalendarNotCovered, match="^2028 is not covered"):
        CALENDAR.working_days_between(date(2026, 6, 1), date(2028, 1, 1))
    assert CALENDAR.coverage(2028).problem == NOT_COVERED_2028
    assert not CALENDAR.coverage(2028).covered


def test_a_year_before_the_library_is_refused_too() -> None:
    with pytest.raises(CalendarNotCovered, match="add 2003.yaml to DUCHA_HOLIDAY_DIR with the 2003 holidays"):
        CALENDAR.add_working_days(date(2004, 1, 5), -10)


def test_the_library_years_are_reported_with_their_counts() -> None:
    coverage = CALENDAR.coverage(2026)
    assert (coverage.source, coverage.file, coverage.provisional) == ("chinese-calendar", None, False)
    holidays_2026 = [d for d in chinese_calendar.holidays if d.year == 2026]
    assert coverage.holiday_count == len(holidays_2026) == 33
    assert coverage.adjusted_working_day_count == 6
    assert coverage.warning is None


# --- holiday files in an extra directory ---------------------------------------------------------


def test_a_holiday_file_in_the_extra_dir_adds_a_year(tmp_path: Path) -> None:
    path = write(tmp_path, "2028.yaml", FILE_2028)
    calendar = WorkingCalendar.load(tmp_path)
    coverage = calendar.coverage(2028)
    assert (coverage.source, coverage.file, coverage.provisional) == ("holiday file", path, False)
    assert (coverage.holiday_count, coverage.adjusted_working_day_count) == (8, 1)
    assert calendar.is_working_day(date(2028, 2, 5))  # adjusted Saturday
    assert not calendar.is_working_day(date(2028, 1, 25))
    assert calendar.add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 3)
    assert calendar.warnings_for(date(2028, 1, 1), date(2028, 12, 31)) == []
    with pytest.raises(CalendarNotCovered) as raised:
        calendar.is_working_day(date(2029, 1, 2))
    assert f"holiday files cover 2027 (models/holidays/2027.yaml), 2028 ({path})" in str(raised.value)


def test_a_final_holiday_file_overrides_the_library_for_its_year(tmp_path: Path) -> None:
    write(
        tmp_path,
        "2026.yaml",
        "year: 2026\nprovisional: false\nsource: test\nholidays:\n  - name: 元旦\n    date: 2026-01-01\n",
    )
    calendar = WorkingCalendar.load(tmp_path)
    assert calendar.coverage(2026).source == "holiday file"
    assert calendar.is_working_day(date(2026, 2, 16))  # a Monday, no longer a holiday
    assert not calendar.is_working_day(date(2026, 2, 14))  # a Saturday, no longer swapped
    assert CALENDAR.is_working_day(date(2026, 2, 14))  # the default calendar is unchanged


def test_an_extra_file_replaces_the_built_in_one_for_the_same_year(tmp_path: Path) -> None:
    text = "year: 2027\nprovisional: false\nsource: test\nholidays:\n  - name: 元旦\n    date: 2027-01-01\n"
    write(tmp_path, "2027.yaml", text)
    calendar = WorkingCalendar.load(tmp_path)
    assert calendar.coverage(2027).holiday_count == 1
    assert calendar.warnings_for(date(2027, 1, 1), date(2027, 12, 31)) == []
    assert calendar.is_working_day(date(2027, 2, 5))


def test_a_provisional_file_yields_to_the_library(tmp_path: Path) -> None:
    write(tmp_path, "2026.yaml", "year: 2026\nprovisional: true\nsource: guess\n")
    calendar = WorkingCalendar.load(tmp_path)
    assert calendar.coverage(2026).source == "chinese-calendar"
    assert not calendar.is_working_day(date(2026, 2, 16))


def test_a_missing_extra_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        WorkingCalendar.load(tmp_path / "nowhere")
    assert raised.value.lines() == [f"{tmp_path / 'nowhere'}: not a directory of holiday files"]


def test_two_files_for_one_year_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "2028.yaml", FILE_2028)
    write(tmp_path, "2028.yml", FILE_2028)
    with pytest.raises(SourceError, match="2028.yaml already gives this year"):
        WorkingCalendar.load(tmp_path)


# --- holiday file validation: file:line: field: message -----------------------------------------


def test_an_impossible_date_names_its_line_and_field(tmp_path: Path) -> None:
    lines = problems_in(tmp_path, FILE_2028.replace("date: 2028-01-01", "date: 2028-02-30"))
    path = tmp_path / "2028.yaml"
    assert lines == [f"{path}:6: holidays[0].date: not a date: 2028-02-30 (day is out of range for month)"]


def test_a_date_in_another_format_names_its_line_and_field(tmp_path: Path) -> None:
    lines = problems_in(tmp_path, FILE_2028.replace("from: 2028-01-25", "from: 2028/01/25"))
    path = tmp_path / "2028.yaml"
    assert lines == [f"{path}:8: holidays[1].from: Value error, not a date: '2028/01/25'; give YYYY-MM-DD"]


def test_a_holiday_listed_as_a_working_day_is_refused(tmp_path: Path) -> None:
    lines = problems_in(tmp_path, FILE_2028.replace("- date: 2028-02-05", "- date: 2028-01-29"))
    path = tmp_path / "2028.yaml"
    assert lines == [
        f"{path}:11: adjusted_working_days[0].date: 2028-01-29 is listed as a holiday "
        "(春节 Spring Festival) and as a working day"
    ]


def test_a_date_outside_the_files_year_is_refused(tmp_path: Path) -> None:
    text = FILE_2028.replace("date: 2028-01-01", "date: 2027-12-31").replace(
        "to: 2028-01-31", "to: 2029-01-31"
    )
    path = tmp_path / "2028.yaml"
    assert problems_in(tmp_path, text) == [
        f"{path}:6: holidays[0].date: 2027-12-31 is outside 2028, the year of this file",
        f"{path}:9: holidays[1].to: 2029-01-31 is outside 2028, the year of this file",
    ]


def test_unknown_keys_are_refused_where_they_stand(tmp_path: Path) -> None:
    text = FILE_2028.replace("provisional: false", "provisional: false\nremark: x").replace(
        "    date: 2028-01-01", "    day: 2028-01-01"
    )
    path = tmp_path / "2028.yaml"
    assert problems_in(tmp_path, text) == [
        f"{path}:7: holidays[0].day: Extra inputs are not permitted",
        f"{path}:3: remark: Extra inputs are not permitted",
    ]


def test_a_weekday_cannot_be_an_adjusted_working_day(tmp_path: Path) -> None:
    lines = problems_in(tmp_path, FILE_2028.replace("- date: 2028-02-05", "- date: 2028-02-07"))
    path = tmp_path / "2028.yaml"
    assert lines == [
        f"{path}:11: adjusted_working_days[0].date: 2028-02-07 is a Monday: "
        "an adjusted working day is a Saturday or Sunday"
    ]


def test_the_year_must_match_the_file_name(tmp_path: Path) -> None:
    lines = problems_in(tmp_path, FILE_2028, name="2029.yaml")
    assert lines == [f"{tmp_path / '2029.yaml'}:1: year: 2028 does not match the file name 2029.yaml"]


def test_a_span_that_ends_before_it_starts_or_overlaps_is_refused(tmp_path: Path) -> None:
    text = FILE_2028.replace("to: 2028-01-31", "to: 2028-01-20").replace(
        "date: 2028-01-01", "from: 2028-01-01\n    to: 2028-01-02"
    )
    path = tmp_path / "2028.yaml"
    assert problems_in(tmp_path, text) == [
        f"{path}:10: holidays[1].to: 2028-01-20 is before from (2028-01-25)"
    ]
    overlap = FILE_2028.replace("from: 2028-01-25", "from: 2028-01-01")
    assert problems_in(tmp_path, overlap) == [
        f"{path}:7: holidays[1]: 2028-01-01 is already a holiday (元旦 New Year's Day)"
    ]


def test_provisional_must_be_a_yes_or_no_and_is_required(tmp_path: Path) -> None:
    path = tmp_path / "2028.yaml"
    assert problems_in(tmp_path, FILE_2028.replace("provisional: false", "provisional: maybe")) == [
        f"{path}:2: provisional: Input should be a valid boolean"
    ]
    assert problems_in(tmp_path, FILE_2028.replace("provisional: false\n", "")) == [
        f"{path}:1: provisional: Field required"
    ]


def test_a_holiday_needs_a_date_or_a_span(tmp_path: Path) -> None:
    text = FILE_2028.replace("    to: 2028-01-31\n", "")
    assert problems_in(tmp_path, text) == [
        f"{tmp_path / '2028.yaml'}:7: holidays[1]: Value error, give either date, or both from and to"
    ]


# --- properties ----------------------------------------------------------------------------------

covered_days = st.dates(min_value=date(2004, 1, 10), max_value=date(2026, 12, 31))


@given(day=covered_days, n=st.integers(min_value=1, max_value=240))
def test_adding_n_working_days_spans_exactly_n_working_days(day: date, n: int) -> None:
    later = CALENDAR.add_working_days(day, n)
    assert later > day
    assert CALENDAR.is_working_day(later)
    assert CALENDAR.working_days_between(day, later) == n
    assert CALENDAR.working_days_between(later, day) == -n
    back = CALENDAR.add_working_days(later, -n)
    assert back == day if CALENDAR.is_working_day(day) else back < day


@given(start=covered_days, length=st.integers(min_value=0, max_value=90))
def test_counting_agrees_with_checking_each_day(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    expected = sum(CALENDAR.is_working_day(d) for d in days(start + timedelta(days=1), end))
    assert CALENDAR.working_days_between(start, end) == expected
