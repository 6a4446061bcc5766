"""Programme-board benchmark: the board of one programme of N projects against a hand-written SQL floor.

The product is workflows.board.programme_board and then both of its streaming lists read to the end
(``board.projects`` and ``board.not_started``), as ``ducha board --json`` does without the JSON. The
floor fetches the same things with SQL written by hand through the DBAPI cursor of the same kind of
connection: counts per town and stage, budget allocated per funding source, milestones reached, the
not-started count, and the rows of both lists (same joins) fetched to the end as tuples. Both start
from the programme, taken outside the timing: the floor from its id and its definition's stages,
the product from the ``Programme`` in its session (the product still reads the definition inside).
Peak RSS is measured in a child process per size, to show that the lists stream.

    .venv/bin/python bench/board_bench.py                     # both backends; 50, 5,000, 500,000 projects
    .venv/bin/python bench/board_bench.py --sizes 50,5000 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_db import HERE, Databases, Runner, environment, log, patched_module, replace_section, seconds
from sqlmodel import Session
from village_data import NOW, VILLAGE_GENERATOR_VERSION, VillageGenerated, generate_villages

from models import Programme
from workflows import board as board_module
from workflows.board import programme_board
from workflows.definition import get_definition

DEFAULT_SIZES = (50, 5_000, 500_000)
PROPOSED = HERE / "proposed_board.diff"
SMALL = 50  # the programme of the second case: 50 projects among all the others
BY_TOWN = """SELECT t.name, p.stage, count(*) FROM project p JOIN place v ON v.id = p.village_id
JOIN place t ON t.id = v.parent_id WHERE p.programme_id = :programme GROUP BY t.name, p.stage"""
BUDGET = """SELECT fs.code, fs.name, fs.amount_fen, coalesce(sum(pf.amount_fen), 0)
FROM funding_source fs LEFT JOIN project_funding pf ON pf.source_id = fs.id
WHERE fs.programme_id = :programme GROUP BY fs.id, fs.code, fs.name, fs.amount_fen, fs.position ORDER BY fs.position"""
MILESTONES = "SELECT key, due_date FROM programme_milestone WHERE programme_id = :programme ORDER BY due_date"
REACHED = """SELECT e.to_stage, count(DISTINCT e.project_id) FROM workflow_event e
JOIN project p ON p.id = e.project_id AND p.programme_id = :programme WHERE e.to_stage IN ({stages}) GROUP BY e.to_stage"""
NOT_STARTED = """SELECT count(*) FROM project p
WHERE p.programme_id = :programme AND p.actual_start IS NULL AND p.stage NOT IN ({ended})"""
ROWS = """SELECT p.id, p.code, p.programme_id, p.stage, p.planned_start, p.planned_finish, p.actual_start,
  p.actual_finish, p.definition_key, p.definition_version, p.version, v.name, t.name,
  lp.id, lp.name, lp.phone, sp.id, sp.name, sp.phone,
  (SELECT {concat}(CAST(fs.position AS TEXT) || ':' || fs.code || ':' || CAST(pf.amount_fen AS TEXT), ',')
   FROM project_funding pf JOIN funding_source fs ON fs.id = pf.source_id WHERE pf.project_id = p.id)
FROM project p JOIN place v ON v.id = p.village_id JOIN place t ON t.id = v.parent_id
LEFT JOIN role_assignment lr ON lr.project_id = p.id AND lr.role = 'leader'
  AND lr.role IN ('leader', 'specialist') AND lr.revoked_at IS NULL
LEFT JOIN person lp ON lp.id = lr.person_id
LEFT JOIN role_assignment sr ON sr.project_id = p.id AND sr.role = 'specialist'
  AND sr.role IN ('leader', 'specialist') AND sr.revoked_at IS NULL
LEFT JOIN person sp ON sp.id = sr.person_id
WHERE p.programme_id = :programme {not_started}
ORDER BY p.programme_id, p.code"""
BATCH = 1000  # rows fetched at a time, as models.listing streams


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


@dataclass
class Seen:
    """What a board read showed, in one comparable form."""

    by_town: dict[str, int]  # "town/stage" -> projects
    budget: list[tuple[str, str, int, int]]
    reached: dict[str, int]  # milestone key -> projects that entered its stage
    not_started_count: int
    rows: int
    not_started_rows: int
    samples: list[tuple[Any, ...]] = field(default_factory=list)  # first, middle and last row of each list


def _sample_indexes(count: int) -> list[int]:
    return sorted({0, count // 2, count - 1}) if count else []


def given(session: Session) -> None:
    """What the product starts from, as the floor starts from the programme's id and its definition's
    stages: the programme, loaded into the session outside the timing (``product_board`` then finds
    it in the session's identity map)."""
    session.get(Programme, 1)


def product_board(session: Session, build: Callable[..., Any] = programme_board) -> Seen:
    programme = session.get(Programme, 1)
    assert programme is not None
    board = build(session=session, programme=programme, now=NOW)
    lists, samples = [], []
    for listing, count in (
        (board.projects, board.project_count),
        (board.not_started, board.not_started_count),
    ):
        wanted, n = set(_sample_indexes(count)), 0
        for n, row in enumerate(listing):
            if n in wanted:
                samples.append((row.id, row.code, row.town, row.village, row.stage, row.leader_name, row.leader_phone,
                                row.specialist_name, row.specialist_phone, row.budget_fen, row.planned_start.isoformat(),
                                None if row.actual_start is None else row.actual_start.isoformat()))  # fmt: skip
        lists.append(n + 1 if count else 0)
    return Seen(
        by_town={
            f"{town}/{stage}": c for town, stages in board.by_town.items() for stage, c in stages.items() if c
        },
        budget=[(line.code, line.name, line.programme_fen, line.allocated_fen) for line in board.budget],
        reached={line.key: line.reached for line in board.milestones},
        not_started_count=board.not_started_count,
        rows=lists[0],
        not_started_rows=lists[1],
        samples=samples,
    )


class FloorBoard:
    """The same reads as hand-written SQL through the session's DBAPI connection."""

    def __init__(self, milestone_stages: dict[str, str], ended: list[str]) -> None:
        self.milestone_stages, self.ended = milestone_stages, ended

    def __call__(self, session: Session) -> tuple[Any, ...]:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        sqlite = isinstance(dbapi, sqlite3.Connection)
        params = {"programme": 1}

        def sql(text: str) -> str:
            return text if sqlite else text.replace(":programme", "%(programme)s")

        cursor = dbapi.cursor()
        by_town = cursor.execute(sql(BY_TOWN), params).fetchall()
        budget = cursor.execute(sql(BUDGET), params).fetchall()
        milestones = cursor.execute(sql(MILESTONES), params).fetchall()
        stages = _quoted(sorted(set(self.milestone_stages.values())))
        reached = cursor.execute(sql(REACHED.format(stages=stages)), params).fetchall()
        not_started = f"AND p.actual_start IS NULL AND p.stage NOT IN ({_quoted(self.ended)})"
        (count,) = cursor.execute(sql(NOT_STARTED.format(ended=_quoted(self.ended))), params).fetchone()
        cursor.close()
        lists = []
        for where, total in (("", sum(c for *_, c in by_town)), (not_started, count)):
            statement = sql(ROWS.format(concat="group_concat" if sqlite else "string_agg", not_started=where))
            # A server-side cursor on PostgreSQL, as the product's stream (yield_per) uses.
            rows = dbapi.cursor() if sqlite else dbapi.cursor(name=f"floor_board_{len(lists)}")
            rows.execute(statement, params)
            n, wanted, samples = 0, _sample_indexes(total), []
            while batch := rows.fetchmany(BATCH):
                samples += [batch[i - n] for i in wanted if n <= i < n + len(batch)]
                n += len(batch)
            rows.close()
            lists.append((n, samples))
        return by_town, budget, milestones, reached, count, lists

    def seen(self, raw: tuple[Any, ...]) -> Seen:
        """The floor's tuples in the product's form (outside the timing)."""
        by_town, budget, milestones, reached, count, lists = raw
        stage_count = dict(reached)
        samples = [_floor_row(row) for _, rows in lists for row in rows]
        return Seen(
            by_town={f"{town}/{stage}": c for town, stage, c in by_town},
            budget=[tuple(line) for line in budget],
            reached={key: stage_count.get(self.milestone_stages[key], 0) for key, _ in milestones},
            not_started_count=count,
            rows=lists[0][0],
            not_started_rows=lists[1][0],
            samples=samples,
        )


def _iso(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()


def _floor_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    (
        pid,
        code,
        _,
        stage,
        planned,
        _,
        actual,
        _,
        _,
        _,
        _,
        village,
        town,
        _,
        lead,
        lead_phone,
        _,
        spec,
        spec_phone,
        lines,
    ) = row
    parts = sorted((line.split(":") for line in (lines or "").split(",") if line), key=lambda p: int(p[0]))
    budget = {c: int(fen) for _, c, fen in parts}
    return (
        pid,
        code,
        town,
        village,
        stage,
        lead,
        lead_phone,
        spec,
        spec_phone,
        budget,
        _iso(planned),
        _iso(actual),
    )


@dataclass
class Result:
    backend: str
    projects: int  # in the database
    board_projects: int  # on the board
    rows: int  # in both lists
    runs: dict[str, list[float]]  # product, floor, proposed (with bench/proposed_board.diff)
    rss: dict[str, tuple[int, int]] = field(default_factory=dict)  # product / floor: (KiB before, peak KiB)

    def median(self, name: str) -> float | None:
        return statistics.median(self.runs[name]) if self.runs.get(name) else None

    @property
    def ratio(self) -> float:
        return (self.median("product") or 0) / (self.median("floor") or 1)


def floor_for(url: str) -> FloorBoard:
    runner = Runner(url, [])
    with Session(runner.engine) as session:
        definition = get_definition(session=session, key="village-venue")
    runner.close()
    return FloorBoard({m.key: m.stage for m in definition.milestones}, definition.ended_stages())


def measure(url: str, projects: int, repeats: int, *, rss: bool) -> Result:
    runner = Runner(url, [])
    floor = floor_for(url)
    patched = patched_module(board_module, PROPOSED, "bench_proposed_board")
    operations: dict[str, Callable[[Session], Any]] = {"product": product_board, "floor": floor}
    if patched is not None:
        operations["proposed"] = lambda session: product_board(session, patched.programme_board)
    try:
        seen = {
            name: runner.once(operation, vacuum=False, setup=given)[1]
            for name, operation in operations.items()
        }
        seen["floor"] = floor.seen(seen["floor"])
        made = seen["product"]
        for name, other in seen.items():
            if other != made:
                raise AssertionError(f"the {name} does not read the product's board:\n{made}\n{other}")
        runs: dict[str, list[float]] = {name: [] for name in operations}
        for repeat in range(repeats):
            for name, operation in list(operations.items())[:: 1 if repeat % 2 == 0 else -1]:
                runs[name].append(runner.once(operation, vacuum=False, setup=given)[0])
    finally:
        runner.close()
    memory = {which: child_rss(url, which) for which in ("product", "floor")} if rss else {}
    return Result(runner.backend, projects, made.rows, made.rows + made.not_started_rows, runs, memory)


def child_rss(url: str, which: str) -> tuple[int, int]:
    """(peak KiB before reading the board, peak KiB after) of a fresh process that reads it once."""
    done = subprocess.run(
        [sys.executable, __file__, "--rss-child", which, "--url", url],
        capture_output=True,
        text=True,
        check=True,
    )
    before, peak = json.loads(done.stdout.strip().splitlines()[-1])
    return before, peak


def rss_child(url: str, which: str) -> None:
    runner = Runner(url, [])
    operation = product_board if which == "product" else floor_for(url)
    with Session(runner.engine) as session:
        session.connection()
        session.get(Programme, 1)
        before = _peak_kib()
        operation(session)
    print(json.dumps([before, _peak_kib()]))


def _peak_kib() -> int:
    """The process's peak resident set, KiB. ``VmHWM`` where Linux has it: ``getrusage``'s ru_maxrss
    survives exec, so a child started by a big parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# -- report ----------------------------------------------------------------------------------------

HEADER = (
    "| backend | projects in the database | on the board | rows (both lists) | board s | floor s | board/floor "
    "| proposed s | proposed/floor | peak RSS board MiB (before) | peak RSS floor MiB (before) |"
)


def _s(value: float | None) -> str:
    return "–" if value is None else seconds(value)


def table(results: Sequence[Result]) -> list[str]:
    lines = [HEADER, "|" + "---|" * 11]
    for r in results:
        rss = {k: f"{peak / 1024:.0f} ({before / 1024:.0f})" for k, (before, peak) in r.rss.items()}
        proposed = r.median("proposed")
        over = "–" if proposed is None else f"{proposed / (r.median('floor') or 1):.2f}×"
        lines.append(
            f"| {r.backend} | {r.projects:,} | {r.board_projects:,} | {r.rows:,} | {_s(r.median('product'))} "
            f"| {_s(r.median('floor'))} | {r.ratio:.2f}× | {_s(proposed)} | {over} "
            f"| {rss.get('product', '–')} | {rss.get('floor', '–')} |"
        )
    return lines


def checks(results: Sequence[Result]) -> list[str]:
    lines = []
    for r in results:
        proposed = r.median("proposed")
        lines.append(
            f"{'PASS' if r.ratio <= 2 else 'FAIL'}  {r.backend} board of {r.board_projects:,} among {r.projects:,}: "
            f"{_s(r.median('product'))} s ≤ 2 × floor {_s(r.median('floor'))} s (ratio {r.ratio:.2f}"
            + (
                ""
                if proposed is None
                else f"; with the proposed change {proposed / (r.median('floor') or 1):.2f}"
            )
            + ")"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="projects, comma-separated"
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the board and of the floor")
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--one-programme", action="store_true", help="only the board of one programme holding every project"
    )
    parser.add_argument("--rss-child", choices=("product", "floor"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rss_child:
        rss_child(args.url, args.rss_child)
        return 0
    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))
    started = time.perf_counter()
    results: list[Result] = []
    for backend in (b.strip() for b in args.backends.split(",")):
        cases = [
            # (name, programme size for n projects, sizes): one programme of n; a 50-project one among n
            ("board", lambda n: n, sizes),
            ("board50", lambda n: SMALL, [n for n in sizes if n > SMALL] if not args.one_programme else []),
        ]
        for name, size_of, case_sizes in cases:
            databases = Databases(
                name, backend, args.cache_dir, args.keep, VILLAGE_GENERATOR_VERSION,
                lambda url, n, size_of=size_of: generate_villages(url, n, programme_size=size_of(n), deadlines=False, log=log),
                VillageGenerated,
            )  # fmt: skip
            try:
                for projects in case_sizes:
                    databases.template(projects)
                    with databases.working_copy(projects) as url:
                        log(f"measuring {backend} {name} {projects:,} …")
                        results.append(measure(url, projects, args.repeats, rss=name == "board"))
                    log("\n".join(table(results[-1:])[2:]))
            finally:
                databases.close()
    took = time.perf_counter() - started
    check_lines = checks(results)
    print("\n".join([*table(results), "", *check_lines, f"\ntook {took / 60:.1f} min"]))
    lines = [
        f"{environment()}; `{' '.join(['bench/board_bench.py', *argv])}` took {took / 60:.1f} min (generation included).",
        "Two cases: one programme holding every project, and a 50-project programme among all the projects "
        "(programmes of 50); medians; peak RSS of a fresh process reading the board once (and before it read it). "
        "Column meanings: bench/README.md.",
        "",
        *table(results),
        "",
        "```",
        *check_lines,
        "```",
        "",
        "All runs (seconds):",
        "",
        *(
            f"- {r.backend} {r.board_projects:,} among {r.projects:,}: "
            + "; ".join(f"{name} {', '.join(map(seconds, runs))}" for name, runs in r.runs.items())
            for r in results
        ),
    ]
    replace_section(args.out, "Programme board: latest results", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
