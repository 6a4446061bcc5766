from sqlmodel import Session

from tests import builders
from workflows.board import list_projects


def test_builders_make_a_listed_project(session: Session) -> None:
    prog = builders.programme(session)
    builders.project(session, prog)
    session.commit()
    rows = list_projects(session=session).all()
    assert [(r.town, r.village, r.stage, r.budget_total_fen) for r in rows] == [
        ("城关镇", "和平村", "proposed", 3_694_000)
    ]
