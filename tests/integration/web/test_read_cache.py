"""The answers the web keeps (workflows.read_cache) stay exact: the project list's count and the
battle map follow a write made by another connection at once, never leak from one scope to another,
and the battle map follows the clock; the data generation moves on the writes they depend on only."""

import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlmodel import Session

from ducha.api import create_app
from ducha.config import get_settings
from ducha.context import AppContext
from ducha.db import make_engine
from ducha.demo.logins import DEMO_PASSWORD
from models import Programme
from models.generation import data_generation
from models.scope import Scope
from tests.integration.conftest import ok
from tests.integration.web.conftest import LATE_AT, PHONES, SteppingClock, Web, log_in
from workflows.battle_map import battle_map
from workflows.board import list_projects


def elsewhere(url: str, *statements: str) -> None:
    """Run ``statements`` in one committed transaction on a connection of its own."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def generation(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as session:
        found = data_generation(session)
    engine.dispose()
    return found


def count(client: TestClient, query: str = "") -> int:
    answer = client.get(f"/api/v1/projects?limit=1{query}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["count"])


def tiles(board: str) -> dict[str, str]:
    """code -> the tile's classes, on a battle map page."""
    return {
        code: classes
        for classes, code in re.findall(r'<a class="tile ([a-z -]+)" href="/projects/(P\d+)"', board)
    }


def test_counts_follow_writes_made_elsewhere_and_never_cross_scopes(
    web: Web, as_role: Callable[[str], TestClient]
) -> None:
    office, town, specialist = as_role("office"), as_role("viewer"), as_role("specialist")
    for _ in range(2):  # the second round is answered from what the first kept
        assert (count(office), count(town), count(specialist)) == (50, 8, 1)
        assert count(town, "&stage=in_construction") <= count(office, "&stage=in_construction")
    # Another connection moves P001's village to another town: the town's staff see one fewer.
    elsewhere(
        web.url,
        "UPDATE place SET parent_id = (SELECT id FROM place WHERE kind = 'town' AND name <> '城关镇'"
        " ORDER BY id LIMIT 1) WHERE id = (SELECT village_id FROM project WHERE code = 'P001')",
    )
    assert (count(office), count(town), count(specialist)) == (50, 7, 1)
    # ... and revokes the specialist's role: the specialist sees nothing.
    elsewhere(
        web.url,
        "UPDATE role_assignment SET revoked_at = (SELECT min(due_at) FROM deadline), revoke_reason = 'test'"
        " WHERE project_id = (SELECT id FROM project WHERE code = 'P001') AND role = 'specialist'",
    )
    assert (count(office), count(town), count(specialist)) == (50, 7, 0)


def test_two_towns_never_share_a_kept_count(web: Web) -> None:
    engine = make_engine(web.url)
    with Session(engine) as session:
        towns = [
            name
            for (name,) in session.execute(text("SELECT name FROM place WHERE kind = 'town' ORDER BY name"))
        ]
        assert len(towns) >= 2
        fresh = {town: list_projects(session=session, scope=Scope(town=town)).count() for town in towns}
        assert len(set(fresh.values())) > 1 or sum(fresh.values()) == 50
        for _ in range(2):
            for town in towns:
                kept = list_projects(session=session, scope=Scope(town=town), cached=True)
                assert kept.count() == fresh[town], town
    engine.dispose()


def test_the_battle_map_follows_writes_made_elsewhere(web: Web, as_role: Callable[[str], TestClient]) -> None:
    office, town = as_role("office"), as_role("viewer")
    before = tiles(office.get("/board").text)
    assert tiles(office.get("/board").text) == before and len(before) == 50
    assert set(tiles(town.get("/board").text)) == {f"P00{n}" for n in range(1, 9)}
    late = sorted(code for code, classes in before.items() if classes.endswith(" late"))
    assert late, "the demo after the sweep has late projects"
    settled = late[0]
    elsewhere(
        web.url,
        "UPDATE deadline SET status = 'waived'"
        f" WHERE project_id = (SELECT id FROM project WHERE code = '{settled}')",
        "UPDATE project SET stage = 'accepted' WHERE code = 'P002'",
    )
    after = tiles(office.get("/board").text)
    assert not after[settled].endswith(" late")
    assert after["P002"].startswith("s-done")
    assert {c for c in after if after[c] != before[c]} <= {settled, "P002"}
    assert set(tiles(town.get("/board").text)) == {f"P00{n}" for n in range(1, 9)}


def test_the_battle_map_follows_the_clock(web: Web) -> None:
    running = SteppingClock(LATE_AT)
    context = AppContext(_settings=get_settings(), system_clock=web.system, running_clock=running)
    client = TestClient(create_app(context), base_url="http://testserver", follow_redirects=False)
    try:
        assert log_in(client, PHONES["office"], DEMO_PASSWORD).status_code == 303
        first = tiles(client.get("/board").text)
        assert tiles(client.get("/board").text) == first
        # The next open deadline to fall due: once the clock passes it, the map shows it late.
        engine = make_engine(web.url)
        with Session(engine) as session:
            due = session.execute(
                text("SELECT min(due_at) FROM deadline WHERE status = 'open' AND due_at >= :now"),
                {
                    "now": LATE_AT
                    if engine.dialect.name == "postgresql"
                    else LATE_AT.strftime("%Y-%m-%d %H:%M:%S.%f")
                },
            ).scalar_one()
            assert due is not None
            programme = session.get(Programme, 1)
            assert programme is not None
            running.at = LATE_AT + timedelta(days=400)
            expected = battle_map(session=session, programme=programme, now=running.at)
        engine.dispose()
        later = tiles(client.get("/board").text)
        assert later != first
        assert {t.code for town in expected.towns for t in town.tiles if t.overdue} == {
            code for code, classes in later.items() if classes.endswith(" late")
        }
    finally:
        client.close()
        context.dispose()


def test_the_generation_moves_on_relevant_writes_only(web: Web) -> None:
    start = generation(web.url)
    # What the sweep writes besides alerts, a notice's state, a person's name: nothing these reads show.
    elsewhere(
        web.url,
        "UPDATE deadline SET next_level_at = next_level_at, next_level = next_level",
        "UPDATE person SET name = name",
        "UPDATE notice SET state = state",
    )
    assert generation(web.url) == start
    # A rolled-back write moves nothing.
    engine = create_engine(web.url)
    with engine.connect() as connection:
        connection.execute(text("UPDATE project SET stage = stage"))
        connection.rollback()
    engine.dispose()
    assert generation(web.url) == start
    moved = start
    for statement in (
        "UPDATE project SET stage = stage",
        "UPDATE deadline SET due_at = due_at",
        "UPDATE deadline SET status = status",
        "UPDATE rectification_order SET status = status",
        "UPDATE place SET name = name",
        "UPDATE programme SET name = name",
    ):
        elsewhere(web.url, statement)
        now = generation(web.url)
        assert now != moved, statement
        moved = now
    # The sweep raising alerts (another process, as the scheduler's would be).
    ok(web.url, "sweep", "--at", "2027-06-01T09:00+08:00")
    assert generation(web.url) != moved


def test_the_cache_keeps_a_bounded_number_of_answers(web: Web) -> None:
    from workflows.read_cache import ReadCache

    cache: ReadCache[int] = ReadCache(2)
    made: list[int] = []

    def make(value: int) -> Callable[[], tuple[int, None]]:
        def answer() -> tuple[int, None]:
            made.append(value)
            return value, None

        return answer

    engine = make_engine(web.url)
    with Session(engine) as session:
        for key in (1, 2, 3):
            assert cache.answer(session, key, make(key)) == key
        assert cache.answer(session, 3, make(3)) == 3 and cache.answer(session, 2, make(2)) == 2
        assert made == [1, 2, 3]  # 2 and 3 were kept
        assert cache.answer(session, 1, make(1)) == 1
        assert made == [1, 2, 3, 1]  # 1 was dropped, the least recently used
    engine.dispose()
