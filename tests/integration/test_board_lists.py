"""The board's two lists read whole from a small programme (one read of its projects, the
not-started ones taken from them) hold what their own queries read, in the same order."""

from datetime import datetime

import pytest
from sqlmodel import Session, select

from ducha.db import make_engine
from models import Programme
from models.listing import Listing, Window
from tests.integration.conftest import run as ducha
from workflows import board as board_module
from workflows.board import list_projects, programme_board
from workflows.definition import get_definition

AT = "2026-12-10T09:00+08:00"
NOW = datetime.fromisoformat(AT)


@pytest.mark.parametrize("window", [Window(), Window(7, 3)], ids=["whole", "page"])
def test_the_not_started_list_is_what_its_query_reads(demo: str, window: Window) -> None:
    engine = make_engine(demo)
    try:
        with Session(engine) as session:
            programme = session.exec(select(Programme)).one()
            ended = get_definition(session=session, key=programme.definition_key).ended_stages()
            board = programme_board(session=session, programme=programme, now=NOW, window=window)
            # Whole lists of 50 projects share one read; a page reads its own.
            assert isinstance(board.projects, Listing) == (not window.everything)
            wanted = list_projects(
                session=session, programme_id=programme.id, not_started_by=ended, window=window
            )
            everything = list_projects(session=session, programme_id=programme.id, window=window)
            not_started = list(board.not_started)
            assert not_started == list(wanted)
            assert list(board.projects) == list(everything)
            assert board.not_started.count() == wanted.count()
            assert board.projects.count() == everything.count()
            assert (len(not_started) == board.not_started_count) == window.everything
            assert board.not_started_count == 26
    finally:
        engine.dispose()


def test_the_board_json_is_the_same_whatever_the_list_is_read_from(
    demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, shared = ducha(demo, "board", "--json", "--at", AT)
    assert code == 0, shared
    monkeypatch.setattr(board_module, "SHARED_ROWS", 0)  # every list its own query
    code, queried = ducha(demo, "board", "--json", "--at", AT)
    assert code == 0, queried
    assert shared == queried
