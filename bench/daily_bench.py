"""Daily-job benchmark: workflows.jobs.daily_job against a hand-written SQL floor measured in the same run.

For each backend and size, on a copy of a cached generated database (bench/village_data.py: the state
the daily job left a day before NOW, plus a day of changes), it checks that the daily job makes
exactly the changes the generator expects and that the floor (bench/daily_floor.py) makes the same,
then times both (alternating, each run rolled back), the daily job with the change to
``_open_orders`` proposed in bench/README.md, and a second daily job after a committed first one.

    .venv/bin/python bench/daily_bench.py                      # both backends; 50, 5,000, 500,000 projects
    .venv/bin/python bench/daily_bench.py --sizes 50,5000 --backends sqlite
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from bench_db import HERE, Databases, Runner, environment, log, patched_module, replace_section, seconds
from daily_floor import floor_job
from sqlalchemy import bindparam, event, text
from sqlmodel import Session, col, select
from village_data import (
    LAST_RUN,
    NOW,
    VILLAGE_GENERATOR_VERSION,
    VillageGenerated,
    expectation_digest,
    generate_villages,
)

from models import Deadline, WorkflowDefinitionRecord
from models.calendar import WorkingCalendar
from models.types import UTCDateTime
from workflows import deadline_sync, jobs
from workflows.definition import get_definition
from workflows.jobs import daily_job

DEFAULT_SIZES = (50, 5_000, 500_000)
PROPOSED = HERE / "proposed_deadline_sync.diff"
NEW = """SELECT subject, kind, title, programme_id, project_id, order_id, milestone_key, stage, stage_entered_at,
  cadence, period_start, period_end, due_at, revision, status, settled_at, next_level, next_level_at
FROM deadline WHERE id > :before ORDER BY subject"""
NEW_LEVELS = """SELECT d.subject, l.revision, l.level, l.name, l.at, CAST(l.notify AS TEXT)
FROM deadline_level l JOIN deadline d ON d.id = l.deadline_id WHERE d.id > :before ORDER BY 1, 2, 3"""
SETTLED = """SELECT id, status, settled_at, next_level, next_level_at FROM deadline
WHERE id <= :before AND status <> 'open' AND settled_at > :last ORDER BY id"""


def _iso(value: Any) -> str:
    moment = datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else value
    return moment.astimezone(UTC).isoformat()


@dataclass
class Changes:
    new: list[tuple[Any, ...]]
    levels: list[tuple[Any, ...]]
    settled: list[tuple[Any, ...]]
    open_count: int
    level_count: int

    def expected_form(self) -> tuple[list[str], list[tuple[int, str, str]]]:
        return [row[0] for row in self.new], [(row[0], row[1], _iso(row[2])) for row in self.settled]


def changes(before: int) -> Callable[[Session], Changes]:
    def inspect(session: Session) -> Changes:
        c = session.connection()
        last = bindparam("last", LAST_RUN, type_=UTCDateTime())
        return Changes(
            new=[tuple(r) for r in c.execute(text(NEW), {"before": before})],
            levels=[tuple(r) for r in c.execute(text(NEW_LEVELS), {"before": before})],
            settled=[tuple(r) for r in c.execute(text(SETTLED).bindparams(last), {"before": before})],
            open_count=c.execute(text("SELECT count(*) FROM deadline WHERE status = 'open'")).scalar_one(),
            level_count=c.execute(text("SELECT count(*) FROM deadline_level")).scalar_one(),
        )

    return inspect


def proposed_sync() -> Any:
    """sync_deadlines with bench/proposed_deadline_sync.diff applied (None if it no longer applies)."""
    patched = patched_module(deadline_sync, PROPOSED, "bench_proposed_deadline_sync")
    return None if patched is None else patched.sync_deadlines


class Profile:
    """Seconds per statement the product sends, while ``active``."""

    def __init__(self, engine: Any) -> None:
        self.active, self.spent = False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.active:
            self.spent.append((time.perf_counter() - conn.info["bench_started"], " ".join(statement.split())))


@dataclass
class Result:
    backend: str
    generated: VillageGenerated
    runs: dict[str, list[float]]  # product (the daily job), floor, fixed (with the proposed change)
    quiet: dict[str, list[float]]  # the same, with nothing to do
    top_statements: list[tuple[float, str]] = field(default_factory=list)
    note: str = ""

    def median(self, name: str, quiet: bool = False) -> float | None:
        runs = (self.quiet if quiet else self.runs)[name]
        return statistics.median(runs) if runs else None

    @property
    def ratio(self) -> float:
        return (self.median("product") or 0) / (self.median("floor") or 1)


def measure(
    url: str, generated: VillageGenerated, *, repeats: int, no_change_repeats: int, budget: float
) -> Result:
    runner = Runner(url, ["deadline", "deadline_level"])
    calendar = WorkingCalendar.load()
    try:
        with Session(runner.engine) as session:
            before = session.exec(select(Deadline.id).order_by(col(Deadline.id).desc())).first() or 0
            keys = session.exec(select(WorkflowDefinitionRecord.key, WorkflowDefinitionRecord.version)).all()
            definitions = {(k, v): get_definition(session=session, key=k, version=v) for k, v in keys}

        def product(session: Session) -> tuple[int, int]:
            result = daily_job(session=session, now=NOW, calendar=calendar)
            assert not (result.cadences_opened or result.cadences_settled), result
            return result.opened, result.settled

        proposed = proposed_sync()

        def fixed(session: Session) -> tuple[int, int]:
            with mock.patch.object(jobs, "sync_deadlines", proposed):
                return product(session)

        floor = floor_job(definitions, calendar, NOW)
        expected = (generated.opened_count, generated.settled_count)
        profile = Profile(runner.engine)

        def profiled(session: Session) -> tuple[int, int]:
            profile.active = True
            try:
                return product(session)
            finally:
                profile.active = False

        first, counts, made = runner.once(profiled, inspect=changes(before))
        check_expected(generated, counts, made)
        runs: dict[str, list[float]] = {"product": [], "floor": [], "fixed": []}
        variants = {"floor": floor, "fixed": fixed} if proposed else {"floor": floor}
        for name, operation in variants.items():
            _, other, other_made = runner.once(operation, inspect=changes(before))
            if (other, other_made) != (counts, made):
                raise AssertionError(f"the {name} does not make the daily job's changes: {other} vs {counts}")
        slow = first > budget
        if slow:
            runs["product"].append(first)
        else:
            variants = {"product": product, **variants}
        for repeat in range(repeats):
            for name, operation in list(variants.items())[:: 1 if repeat % 2 == 0 else -1]:
                took, got, _ = runner.once(operation)
                assert got == expected, (name, got, expected)
                runs[name].append(took)
        # The day's changes committed (by the floor: the same changes, checked above); then nothing to do.
        runner.once(floor, commit=True)
        runner.vacuum()
        quiet: dict[str, list[float]] = {"product": [], "floor": [], "fixed": []}
        for repeat in range(no_change_repeats):
            done = {"product": product} if repeat == 0 or not slow else {}
            for name, operation in {**done, "floor": floor, **({"fixed": fixed} if proposed else {})}.items():
                took, got, _ = runner.once(operation, vacuum=False)
                assert got == (0, 0), (name, got)
                quiet[name].append(took)
    finally:
        runner.close()
    note = (
        f"the daily job was run once (and once with nothing to do): its first run took {seconds(first)} s, over --budget {budget:.0f} s"
        if slow
        else ""
    )
    if not proposed and PROPOSED.exists():
        note += f" {PROPOSED.name} no longer applies to workflows/deadline_sync.py: not measured."
    return Result(
        runner.backend, generated, runs, quiet, sorted(profile.spent, reverse=True)[:5], note.strip()
    )


def check_expected(generated: VillageGenerated, counts: tuple[int, int], made: Changes) -> None:
    """The daily job at NOW opens exactly the moved projects' new stage limits and settles exactly
    their old ones, the milestones they reached and the closed orders' deadlines."""
    opened, settled = made.expected_form()
    wanted = (generated.opened_count, generated.settled_count)
    if counts != wanted or (len(opened), len(settled)) != wanted:
        raise AssertionError(
            f"daily job opened/settled {counts} ({len(opened)}, {len(settled)} found), expected {wanted}"
        )
    if generated.opened or generated.settled:
        assert sorted(opened) == generated.opened, set(opened) ^ set(generated.opened)
        assert sorted(map(list, settled)) == generated.settled, (settled, generated.settled)
    assert expectation_digest(opened, settled) == generated.digest, (
        "the daily job's changes differ from the expected ones"
    )
    assert made.open_count == generated.open_deadlines - len(settled) + len(opened), made.open_count


# -- report ----------------------------------------------------------------------------------------

HEADER = (
    "| backend | projects | deadlines | opened | settled | daily s | floor s | daily/floor | proposed s "
    "| proposed/floor | no-change s | proposed no-change s | floor no-change s |"
)


def _s(value: float | None) -> str:
    return "–" if value is None else seconds(value)


def table(results: Sequence[Result]) -> list[str]:
    lines = [HEADER, "|" + "---|" * 13]
    for r in results:
        g, floor, fixed = r.generated, r.median("floor") or 1, r.median("fixed")
        lines.append(
            f"| {r.backend} | {g.projects:,} | {g.deadlines:,} | {g.opened_count:,} | {g.settled_count:,} "
            f"| {_s(r.median('product'))} | {_s(floor)} | {r.ratio:.2f}× | {_s(fixed)} "
            f"| {'–' if fixed is None else f'{fixed / floor:.2f}×'} | {_s(r.median('product', True))} "
            f"| {_s(r.median('fixed', True))} | {_s(r.median('floor', True))} |"
        )
    return lines


def checks(results: Sequence[Result], sizes: Sequence[int]) -> list[str]:
    lines = []
    for r in results:
        verdict = "PASS" if r.ratio <= 2 else "FAIL"
        fixed = r.median("fixed")
        lines.append(
            f"{verdict}  {r.backend} {r.generated.projects:,}: daily job {_s(r.median('product'))} s ≤ 2 × floor "
            f"{_s(r.median('floor'))} s (ratio {r.ratio:.2f}"
            + ("" if fixed is None else f"; with the proposed change {fixed / (r.median('floor') or 1):.2f}")
            + ")"
        )
    for backend in sorted({r.backend for r in results}):
        if 500_000 in sizes:
            done = any(r.backend == backend and r.generated.projects == 500_000 for r in results)
            lines.append(f"{'PASS' if done else 'FAIL'}  {backend}: the 500,000 run completed")
    return lines


def write(
    path: Path, results: Sequence[Result], check_lines: Sequence[str], took: float, argv: Sequence[str]
) -> None:
    lines = [
        f"{environment()}; `{' '.join(['bench/daily_bench.py', *argv])}` took {took / 60:.1f} min (generation included).",
        f"Medians; every run rolled back; the daily job runs at {NOW:%Y-%m-%d %H:%M} UTC (06:30 Shanghai), a day after "
        "the previous one. Column meanings: bench/README.md.",
        "",
        *table(results),
        "",
        "```",
        *check_lines,
        "```",
        "",
    ]
    notes = [f"- {r.backend} {r.generated.projects:,}: {r.note}" for r in results if r.note]
    if notes:
        lines += ["Notes:", *notes, ""]
    lines += ["All runs (seconds):", ""]
    for r in results:
        fmt = lambda runs: ", ".join(map(seconds, runs)) or "–"  # noqa: E731
        lines.append(
            f"- {r.backend} {r.generated.projects:,}: daily {fmt(r.runs['product'])}; floor {fmt(r.runs['floor'])}; "
            f"proposed {fmt(r.runs['fixed'])}; no-change: daily {fmt(r.quiet['product'])}, "
            f"proposed {fmt(r.quiet['fixed'])}, floor {fmt(r.quiet['floor'])}"
        )
    largest = max(r.generated.projects for r in results)
    for r in (r for r in results if r.generated.projects == largest):
        lines += [
            "",
            f"The daily job's costliest statements, {r.backend} {largest:,} projects (first run):",
            "",
        ]
        lines += [f"- {seconds(spent)} s: `{statement[:160]}…`" for spent, statement in r.top_statements]
    replace_section(path, "Daily job: latest results", lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="projects, comma-separated"
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the daily job and of the floor")
    parser.add_argument("--no-change-repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=300, help="seconds; a slower daily job is run once")
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    args = parser.parse_args(argv)
    sizes = sorted(int(size.replace("_", "")) for size in args.sizes.split(","))
    started = time.perf_counter()
    results: list[Result] = []
    for backend in (b.strip() for b in args.backends.split(",")):
        databases = Databases(
            "daily", backend, args.cache_dir, args.keep, VILLAGE_GENERATOR_VERSION,
            lambda url, n: generate_villages(url, n, log=log), VillageGenerated,
        )  # fmt: skip
        try:
            for projects in sizes:
                generated = databases.template(projects)
                with databases.working_copy(projects) as url:
                    log(f"measuring {backend} {projects:,} …")
                    results.append(measure(
                        url, generated, repeats=args.repeats, no_change_repeats=args.no_change_repeats, budget=args.budget
                    ))  # fmt: skip
                log("\n".join(table(results[-1:])[2:]))
        finally:
            databases.close()
    took = time.perf_counter() - started
    check_lines = checks(results, sizes)
    print("\n".join([*table(results), "", *check_lines, f"\ntook {took / 60:.1f} min"]))
    write(args.out, results, check_lines, took, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
