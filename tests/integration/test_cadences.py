"""一月一总结、一季度一督查、一年一考评: cadence deadlines on the working-day calendar."""

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from inspections.evidence import EvidenceStore
from models import Deadline, DeadlineKind
from models.calendar import WorkingCalendar
from tests import builders
from workflows.cadences import generate_cadence_deadlines

CALENDAR = WorkingCalendar.load()
DEC_10 = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)


def _cadences(session: Session) -> dict[str, Deadline]:
    rows = session.exec(select(Deadline).where(col(Deadline.kind) == DeadlineKind.CADENCE)).all()
    return {d.subject.split(":programme:")[0]: d for d in rows}


def test_cadence_deadlines_fall_on_working_days_and_are_opened_once(session: Session) -> None:
    builders.programme(session)
    session.commit()
    first = generate_cadence_deadlines(session=session, now=DEC_10, calendar=CALENDAR)
    again = generate_cadence_deadlines(session=session, now=DEC_10, calendar=CALENDAR)
    session.commit()
    assert (first.opened, again.opened, first.warnings) == (4, 0, [])
    due = {key: d.due_at for key, d in _cadences(session).items()}
    assert due == {
        # The 5th working day of December 2026 is Monday the 7th; of January 2027, Friday the 8th
        # (1 January is a holiday), both at 17:30 Shanghai time.
        "cadence:monthly_summary:2026-11": datetime(2026, 12, 7, 9, 30, tzinfo=UTC),
        "cadence:monthly_summary:2026-12": datetime(2027, 1, 8, 9, 30, tzinfo=UTC),
        "cadence:quarterly_inspection:2026Q4": datetime(2026, 12, 31, 9, 30, tzinfo=UTC),
        "cadence:yearly_evaluation:2026": datetime(2026, 12, 31, 9, 30, tzinfo=UTC),
    }


def test_a_period_past_the_calendar_is_left_out_with_a_warning(session: Session) -> None:
    builders.programme(session)
    session.commit()
    result = generate_cadence_deadlines(
        session=session, now=datetime(2027, 12, 20, 1, tzinfo=UTC), calendar=CALENDAR
    )
    assert result.opened == 1  # November's summary, due in December 2027, is inside the calendar
    assert any("monthly_summary:2027-12" in w and "2028 is not covered" in w for w in result.warnings)
    assert any("yearly_evaluation:2027" in w for w in result.warnings)  # its escalation runs into 2028
    assert all(d.subject.split(":")[1] == "monthly_summary" for d in _cadences(session).values())


def test_the_quarterly_inspection_is_met_when_every_project_was_inspected(
    session: Session, tmp_path: Path
) -> None:
    prog = builders.programme(session)
    first, second = builders.project(session, prog, "和平村"), builders.project(session, prog, "团结村")
    team = builders.inspectors(session)
    session.commit()
    generate_cadence_deadlines(session=session, now=DEC_10, calendar=CALENDAR)
    store = EvidenceStore(tmp_path)
    builders.signed_inspection(
        session, first, "pre-review", team, at=datetime(2026, 12, 11, 2, tzinfo=UTC), store=store
    )
    session.commit()
    generate_cadence_deadlines(session=session, now=DEC_10, calendar=CALENDAR)
    assert _cadences(session)["cadence:quarterly_inspection:2026Q4"].status == "open"
    builders.signed_inspection(
        session, second, "pre-review", team, at=datetime(2026, 12, 14, 2, tzinfo=UTC), store=store
    )
    session.commit()
    result = generate_cadence_deadlines(session=session, now=DEC_10, calendar=CALENDAR)
    quarter = _cadences(session)["cadence:quarterly_inspection:2026Q4"]
    assert (result.settled, quarter.status, quarter.settled_at) == (
        1,
        "met",
        datetime(2026, 12, 14, 2, tzinfo=UTC),
    )
