"""Times are stored in UTC and shown, and dated, in Asia/Shanghai."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware instant."""
    return moment.astimezone(LOCAL_TZ).date()


def local(moment: datetime) -> datetime:
    """An aware instant shown in Asia/Shanghai."""
    return moment.astimezone(LOCAL_TZ)
