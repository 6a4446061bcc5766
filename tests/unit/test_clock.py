"""Reading 'now': ISO 8601 instants, Shanghai local time by default, frozen or system clocks."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ducha.clock import LOCAL_TZ, FixedClock, SystemClock, clock_from, parse_instant
from models.errors import BadInput

EXAMPLES = "(examples: 2026-12-10, 2026-12-10T09:00+08:00)"


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        # A date alone is the start of the office day: 09:00 in Shanghai, 01:00 UTC.
        ("2026-12-10", datetime(2026, 12, 10, 1, 0)),
        ("  2026-12-10 ", datetime(2026, 12, 10, 1, 0)),
        ("2027-01-01", datetime(2027, 1, 1, 1, 0)),
        # Naive date-times are Shanghai local time.
        ("2026-12-10T09:00", datetime(2026, 12, 10, 1, 0)),
        ("2026-12-10 17:30", datetime(2026, 12, 10, 9, 30)),
        ("2026-12-10T00:30", datetime(2026, 12, 9, 16, 30)),
        # Explicit offsets are respected.
        ("2026-12-10T09:00+08:00", datetime(2026, 12, 10, 1, 0)),
        ("2026-12-10T09:00Z", datetime(2026, 12, 10, 9, 0)),
        ("2026-12-10T09:00+00:00", datetime(2026, 12, 10, 9, 0)),
        ("2026-12-10T00:30-05:00", datetime(2026, 12, 10, 5, 30)),
    ],
)
def test_parse_instant(text: str, utc: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == utc.replace(tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_a_date_is_nine_in_the_morning_in_shanghai() -> None:
    parsed = parse_instant("2026-12-10")
    assert parsed.astimezone(LOCAL_TZ).isoformat() == "2026-12-10T09:00:00+08:00"


@pytest.mark.parametrize("text", ["tomorrow", "", "2026-02-30", "2026-12-10T25:00", "10/12/2026", "2026-12"])
def test_garbage_is_refused_with_examples(text: str) -> None:
    with pytest.raises(BadInput) as raised:
        parse_instant(text)
    assert str(raised.value) == f"not an ISO 8601 date or time: {text!r} {EXAMPLES}"


def test_a_basic_format_date_is_also_nine_in_the_morning() -> None:
    assert parse_instant("20261210") == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)


def test_fixed_clock_is_frozen_in_utc() -> None:
    clock = FixedClock(datetime(2026, 12, 10, 9, 0, tzinfo=LOCAL_TZ))
    assert clock.now() == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    assert clock.now() == clock.now()
    other = FixedClock(datetime(2026, 12, 10, 9, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert other.now() == datetime(2026, 12, 10, 14, 0, tzinfo=UTC)


def test_fixed_clock_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError) as raised:
        FixedClock(datetime(2026, 12, 10, 9, 0))
    assert str(raised.value) == "FixedClock needs an aware datetime"


def test_clock_from_a_text_is_fixed_at_that_instant() -> None:
    clock = clock_from("2026-12-10")
    assert isinstance(clock, FixedClock)
    assert clock.now() == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    assert clock_from("2026-12-10T18:00+08:00").now() == datetime(2026, 12, 10, 10, 0, tzinfo=UTC)


def test_clock_from_garbage_is_refused() -> None:
    with pytest.raises(BadInput, match="^not an ISO 8601 date or time: 'soon'"):
        clock_from("soon")


@pytest.mark.parametrize("at", [None, ""])
def test_clock_from_nothing_is_the_system_clock(at: str | None) -> None:
    clock = clock_from(at)
    assert isinstance(clock, SystemClock)
    first, second = clock.now(), clock.now()
    assert first.utcoffset() == timedelta(0)
    assert datetime(2025, 1, 1, tzinfo=UTC) < first <= second  # aware UTC, and not frozen in the past
