"""Times are stored in UTC and shown, and dated, in Asia/Shanghai; the office day's fixed hours."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# The office day starts at 09:00: a bare date given as "now" means that hour, and the morning
# alerts (upcoming, due) are raised then.
OFFICE_DAY_START = time(9, 0)
# "Within N working days" ends at close of business on the last day (下班前): 17:30 local.
CLOSE_OF_BUSINESS = time(17, 30)


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return moment.astimezone(LOCAL_TZ).date()


def local(moment: datetime) -> datetime:
    """An aware instant shown in Asia/Shanghai."""
    return moment.astimezone(LOCAL_TZ)


def days(count: int, noun: str = "day") -> str:
    """1 working day, 2 working days."""
    return f"{count} {noun}" if abs(count) == 1 else f"{count} {noun}s"


def strict_date(text: str) -> date:
    """A date written exactly as YYYY-MM-DD (no basic format, no week dates); ValueError otherwise."""
    digits = text[:4] + text[5:7] + text[8:]
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not (digits.isascii() and digits.isdecimal()):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    return date.fromisoformat(text)
