"""The working-day calendar (工作日 working day, 调休 adjusted working day) that every package uses.

China's official calendar comes from chinese-calendar for the years it covers. A holiday file, one
YAML per year (``models/holidays/2027.yaml`` or ``2027.yaml`` in the caller's extra directory), adds a
year or replaces the library's data for that year; a provisional file yields to the library, whose
data is only ever the published calendar. A date in a year nothing covers raises CalendarNotCovered:
the calendar never guesses.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictBool, model_validator

from models.errors import BadInput
from models.localtime import CLOSE_OF_BUSINESS, LOCAL_TZ, local_date
from models.yaml_source import Loc, SourceError, SourceProblem, YamlDocument, read_source_text

BUILTIN_DIR = Path(__file__).parent / "holidays"
END_OF_DAY = time(23, 59, 59, 999_999)
CalendarSource = Literal["chinese-calendar", "holiday file"]


class CalendarNotCovered(BadInput):
    """A date falls in a year that neither chinese-calendar nor any holiday file covers."""

    def __init__(self, year: int, message: str) -> None:
        self.year = year
        super().__init__(message)


# --- holiday files -------------------------------------------------------------------------------


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError("give a date (YYYY-MM-DD) without a time")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"not a date: {value!r}; give YYYY-MM-DD")


Day = Annotated[date, PlainValidator(_as_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HolidayEntry(_Strict):
    """A holiday (法定节假日 public holiday) on one ``date`` or from ``from`` to ``to`` inclusive."""

    name: str = Field(min_length=1)
    on: Day | None = Field(default=None, alias="date")
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None

    @model_validator(mode="after")
    def _one_day_or_a_span(self) -> "HolidayEntry":
        single = self.on is not None and self.from_ is None and self.to is None
        span = self.on is None and self.from_ is not None and self.to is not None
        if not (single or span):
            raise ValueError("give either date, or both from and to")
        return self

    def days(self) -> list[date]:
        """List every day of the holiday, in order (none if it ends before it starts)."""
        if self.on is not None:
            return [self.on]
        assert self.from_ is not None and self.to is not None
        return [self.from_ + timedelta(days=n) for n in range((self.to - self.from_).days + 1)]


class AdjustedWorkingDayEntry(_Strict):
    """An adjusted working day (调休上班): a Saturday or Sunday worked in exchange for a holiday."""

    on: Day = Field(alias="date")
    name: str = ""


class HolidayFileSpec(_Strict):
    """The YAML of a holiday file: one year's holidays and adjusted working days."""

    year: int = Field(ge=1, le=9998)
    provisional: StrictBool
    source: str = Field(min_length=1)
    note: str = ""
    holidays: list[HolidayEntry] = Field(default_factory=list)
    adjusted_working_days: list[AdjustedWorkingDayEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class HolidayFile:
    """A validated holiday file: the holidays and adjusted working days of one year, by date."""

    year: int
    path: Path
    provisional: bool
    source: str
    note: str
    holidays: Mapping[date, str]
    adjusted_working_days: Mapping[date, str]


def parse_holiday_file(text: str, path: Path) -> HolidayFile:
    """Parse and validate a holiday file; raise SourceError naming file, line and field of each problem."""
    document = YamlDocument(text, str(path))  # 2027-02-30 fails here, located
    spec = document.validate(HolidayFileSpec)
    holidays: dict[date, str] = {}
    adjusted: dict[date, str] = {}
    problems = list(_problems(spec, document, path, holidays, adjusted))
    if problems:
        raise SourceError(str(path), problems)
    return HolidayFile(spec.year, path, spec.provisional, spec.source, spec.note, holidays, adjusted)


def _problems(
    spec: HolidayFileSpec, doc: YamlDocument, path: Path, holidays: dict[date, str], adjusted: dict[date, str]
) -> Iterator[SourceProblem]:
    """Check what the schema cannot; fill ``holidays`` and ``adjusted`` with the valid days."""
    if path.stem != str(spec.year):
        yield doc.problem(("year",), f"{spec.year} does not match the file name {path.name}")

    def outside(loc: Loc, day: date) -> SourceProblem:
        return doc.problem(loc, f"{day} is outside {spec.year}, the year of this file")

    for index, entry in enumerate(spec.holidays):
        loc: Loc = ("holidays", index)
        bounds = (("date", entry.on), ("from", entry.from_), ("to", entry.to))
        wrong_year = [(key, day) for key, day in bounds if day is not None and day.year != spec.year]
        for key, day in wrong_year:
            yield outside((*loc, key), day)
        if entry.from_ is not None and entry.to is not None and entry.to < entry.from_:
            yield doc.problem((*loc, "to"), f"{entry.to} is before from ({entry.from_})")
        if wrong_year:
            continue
        days = entry.days()
        taken = [day for day in days if day in holidays]
        if taken:
            yield doc.problem(loc, f"{taken[0]} is already a holiday ({holidays[taken[0]]})")
        holidays.update({day: entry.name for day in days if day not in holidays})

    for index, worked in enumerate(spec.adjusted_working_days):
        loc = ("adjusted_working_days", index, "date")
        day = worked.on
        if day.year != spec.year:
            yield outside(loc, day)
        elif day in holidays:
            yield doc.problem(loc, f"{day} is listed as a holiday ({holidays[day]}) and as a working day")
        elif day.weekday() < 5:
            yield doc.problem(loc, f"{day} is a {day:%A}: an adjusted working day is a Saturday or Sunday")
        elif day in adjusted:
            yield doc.problem(loc, f"{day} is listed twice")
        else:
            adjusted[day] = worked.name


def load_holiday_dir(directory: Path) -> dict[int, HolidayFile]:
    """Parse every holiday file (``YYYY.yaml``) in a directory, by year; stop at the first bad one."""
    if not directory.is_dir():
        raise SourceError(str(directory), [SourceProblem(None, "", "not a directory of holiday files")])
    found: dict[int, HolidayFile] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        holiday_file = parse_holiday_file(read_source_text(path), path)
        if holiday_file.year in found:
            other = found[holiday_file.year].path.name
            raise SourceError(str(path), [SourceProblem(None, "year", f"{other} already gives this year")])
        found[holiday_file.year] = holiday_file
    return found


def display_path(path: Path) -> str:
    """Name a holiday file as a user finds it: ``models/holidays/2027.yaml`` for a built-in one."""
    return f"models/holidays/{path.name}" if path.parent == BUILTIN_DIR else str(path)


# --- the calendar --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _library_days() -> dict[int, tuple[frozenset[date], frozenset[date]]]:
    """Read chinese-calendar's holidays and adjusted working days once, by year."""
    holidays: dict[int, set[date]] = {}
    adjusted: dict[int, set[date]] = {}
    for day in chinese_calendar.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in chinese_calendar.workdays:
        adjusted.setdefault(day.year, set()).add(day)
    years = range(min(holidays), max(holidays) + 1)
    return {year: (frozenset(holidays.get(year, ())), frozenset(adjusted.get(year, ()))) for year in years}


@dataclass(frozen=True)
class YearCoverage:
    """Whether a year is covered, and by what: what ``ducha calendar check YEAR`` shows."""

    year: int
    covered: bool
    source: CalendarSource | None = None
    file: Path | None = None
    provisional: bool = False
    holiday_count: int = 0
    adjusted_working_day_count: int = 0
    reference: str | None = None  # the file's source, or the library's version
    warning: str | None = None  # for a provisional year
    problem: str | None = None  # for a year not covered: what to add


@dataclass(frozen=True)
class _YearDays:
    working: tuple[date, ...]  # sorted, for counting with bisect
    working_set: frozenset[date]


def _at_local(day: date, wall_time: time) -> datetime:
    if wall_time.tzinfo is not None:
        raise ValueError("give the cutoff as a local (Asia/Shanghai) wall time without a time zone")
    return datetime.combine(day, wall_time, tzinfo=LOCAL_TZ).astimezone(UTC)


class WorkingCalendar:
    """Working days (工作日) on China's official calendar, adjusted working days (调休) included."""

    def __init__(self, files: Mapping[int, HolidayFile]) -> None:
        library = _library_days()
        self._library = library
        self._first, self._last = min(library), max(library)
        self._files = {
            year: holiday_file
            for year, holiday_file in files.items()
            if not (holiday_file.provisional and year in library)
        }
        self._years: dict[int, _YearDays] = {}

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> "WorkingCalendar":
        """Build the calendar from the built-in holiday files and those in ``extra_dir``, which win."""
        files = load_holiday_dir(BUILTIN_DIR)
        if extra_dir is not None:
            files.update(load_holiday_dir(extra_dir))
        return cls(files)

    def usable_years(self) -> tuple[int, int]:
        """The years a date may be given in: the first covered one to the year after the last.

        The year after the last covered one is allowed so that the office can work in December (its
        deadlines may reach into January), and is refused as soon as a deadline needs its days.
        """
        last = max([self._last, *self._files])
        return self._first, last + 1

    def covers(self, year: int) -> bool:
        """Whether the working days of ``year`` are known (from the library or a holiday file)."""
        return year in self._library or year in self._files

    def require_usable(self, day: date, what: str) -> None:
        """Refuse a date no working-day count can be made for, naming the range that works."""
        first, last = self.usable_years()
        if not first <= day.year <= last:
            raise BadInput(f"{what}: {day} is outside the years ducha works in ({first}–{last})")

    def is_working_day(self, day: date) -> bool:
        """Tell whether ``day`` is a working day; raise CalendarNotCovered outside the covered years."""
        return day in self._year(day.year).working_set

    def add_working_days(self, day: date, n: int) -> date:
        """Return the n-th working day after ``day``, not counting ``day`` itself.

        n == 0 gives ``day`` when it is a working day, else the next working day; n < 0 counts back
        (the |n|-th working day before ``day``).
        """
        if n == 0:
            return day if self.is_working_day(day) else self.add_working_days(day, 1)
        year = day.year
        working = self._year(year).working
        if n > 0:
            index = bisect_right(working, day) + n - 1
            while index >= len(working):
                index -= len(working)
                year += 1
                working = self._year(year).working
        else:
            index = bisect_left(working, day) + n
            while index < 0:
                year -= 1
                working = self._year(year).working
                index += len(working)
        return working[index]

    def working_days_between(self, start: date, end: date) -> int:
        """Count the working days in (start, end]; negative (those in (end, start]) if end is earlier."""
        if end < start:
            return -self.working_days_between(end, start)
        total = -bisect_right(self._year(start.year).working, start)
        for year in range(start.year, end.year):
            total += len(self._year(year).working)
        return total + bisect_right(self._year(end.year).working, end)

    def deadline_after_working_days(
        self, start: datetime, n: int, cutoff: time = CLOSE_OF_BUSINESS
    ) -> datetime:
        """Return the aware UTC instant at which "within n working days" of ``start`` ends.

        Counts from the Asia/Shanghai date of ``start`` (a start after hours still counts from that
        date) and ends at ``cutoff`` local time on the n-th working day after it.
        """
        if start.utcoffset() is None:
            raise ValueError(f"start {start.isoformat()} has no time zone; give an aware instant")
        return _at_local(self.add_working_days(local_date(start), n), cutoff)

    @staticmethod
    def end_of_day(day: date, cutoff: time = END_OF_DAY) -> datetime:
        """Return when a date-only deadline falls due: ``cutoff`` local time on ``day``, in UTC."""
        return _at_local(day, cutoff)

    def coverage(self, year: int) -> YearCoverage:
        """Say whether ``year`` is covered, by the library or a holiday file, and how many days it adjusts."""
        holiday_file = self._files.get(year)
        if holiday_file is not None:
            return YearCoverage(
                year=year,
                covered=True,
                source="holiday file",
                file=holiday_file.path,
                provisional=holiday_file.provisional,
                holiday_count=len(holiday_file.holidays),
                adjusted_working_day_count=len(holiday_file.adjusted_working_days),
                reference=holiday_file.source,
                warning=self._provisional_warning(holiday_file),
            )
        if year in self._library:
            holidays, adjusted = self._library[year]
            return YearCoverage(
                year=year,
                covered=True,
                source="chinese-calendar",
                holiday_count=len(holidays),
                adjusted_working_day_count=len(adjusted),
                reference=f"chinese-calendar {chinese_calendar.__version__}",
            )
        return YearCoverage(year=year, covered=False, problem=str(self._not_covered(year)))

    def warnings_for(self, start: date, end: date) -> list[str]:
        """One warning for each year from ``start`` to ``end`` whose days come from a provisional file."""
        first, last = sorted((start.year, end.year))
        files = (self._files.get(year) for year in range(first, last + 1))
        return [warning for f in files if f is not None and (warning := self._provisional_warning(f))]

    def _provisional_warning(self, holiday_file: HolidayFile) -> str | None:
        if not holiday_file.provisional:
            return None
        year = holiday_file.year
        why = holiday_file.note or f"it may change once the State Council publishes the {year} holidays"
        where = display_path(holiday_file.path)
        return f"{year} working days come from a provisional holiday file ({where}): {why}"

    def _year(self, year: int) -> _YearDays:
        cached = self._years.get(year)
        if cached is None:
            holidays, adjusted = self._days_off_and_on(year)
            first = date(year, 1, 1)
            days = (first + timedelta(days=n) for n in range((date(year, 12, 31) - first).days + 1))
            working = tuple(d for d in days if d in adjusted or (d.weekday() < 5 and d not in holidays))
            cached = self._years[year] = _YearDays(working, frozenset(working))
        return cached

    def _days_off_and_on(self, year: int) -> tuple[Container[date], Container[date]]:
        holiday_file = self._files.get(year)
        if holiday_file is not None:
            return holiday_file.holidays, holiday_file.adjusted_working_days
        if year in self._library:
            return self._library[year]
        raise self._not_covered(year)

    def _not_covered(self, year: int) -> CalendarNotCovered:
        files = ", ".join(f"{y} ({display_path(f.path)})" for y, f in sorted(self._files.items()))
        added = f"holiday files cover {files}" if files else "no holiday file adds a year"
        when = (
            f"with the {year} holidays"
            if year < self._first
            else f"once the State Council publishes the {year} holidays"
        )
        return CalendarNotCovered(
            year,
            f"{year} is not covered by the working-day calendar: chinese-calendar covers "
            f"{self._first}–{self._last} and {added}; add {year}.yaml to DUCHA_HOLIDAY_DIR {when}",
        )
