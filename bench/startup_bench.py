"""CLI start-up benchmark: ``ducha`` commands against a bare Typer app, as separate processes, in one run.

Runs, alternating, each command ``--runs`` times (default 15): a bare Typer app with one command
(its ``--help``, and the command itself), ``ducha --help``, and three read commands on the demo
database (``ducha projects``, ``ducha board``, ``ducha projects --json``), made first in a temporary
directory with ``ducha demo``; with ``--commands all``, every read command of the demo as well
(``ALL_READS``), each judged against the same 3x target. Reports the median and the minimum of each, their ratios to the bare
app running its command, and where a read command's time goes (``python -X importtime`` and
cProfile of one run).

    .venv/bin/python bench/startup_bench.py
    .venv/bin/python bench/startup_bench.py --runs 25
    .venv/bin/python bench/startup_bench.py --commands all --runs 15
"""

from __future__ import annotations

import argparse
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench_db import HERE, environment, log, replace_section, seconds

ROOT = HERE.parent
PYTHON = Path(sys.executable)
DUCHA = PYTHON.parent / "ducha"
BARE = """import typer

app = typer.Typer()


@app.command()
def hello(name: str = "x"):
    print(name)


app()
"""
HELP_TARGET, READ_TARGET = 2.0, 3.0
# The read commands the default run measures.
READS = ("projects", "board", "projects --json")
# Every other read command of the demo (issue 8: each within 3x of the bare command), for --commands all.
ALL_READS = (
    "alerts",
    "alerts --json",
    "show P004",
    "board --json",
    "programmes",
    "orders",
    "inspections",
    "deadlines",
    "notices",
    "audit summary",
    "audit trail P004",
    "audit findings",
    "funds balances",
    "calendar check 2026",
    "workflows",
    # One project asked about, by its code.
    "alerts --project P004",
    "orders --project P004",
    "deadlines --project P004",
    "inspections --project P004",
    "funds balances --project P004",
)


def commands(bare: Path, reads: Sequence[str] = READS) -> dict[str, list[str]]:
    return {
        "bare --help": [str(PYTHON), str(bare), "--help"],
        "bare command": [str(PYTHON), str(bare)],
        "ducha --help": [str(DUCHA), "--help"],
        **{f"ducha {read}": [str(DUCHA), *read.split()] for read in reads},
    }


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_once(argv: list[str], env: dict[str, str], cpu: list[float] | None = None) -> float:
    """Wall seconds of one run; its CPU seconds (user + system) appended to ``cpu``."""
    started, cpu_before = time.perf_counter(), _children_cpu()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    if cpu is not None:
        cpu.append(_children_cpu() - cpu_before)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    return took


def importtime(argv: list[str], env: dict[str, str], top: int) -> list[str]:
    """The imports that cost most (cumulative), from ``python -X importtime``."""
    done = subprocess.run(
        [str(PYTHON), "-X", "importtime", *argv[1:]] if argv[0] == str(PYTHON) else [str(PYTHON), "-X", "importtime", *argv],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, total, name = (part.strip() for part in line[len("import time:") :].split("|"))
        rows.append((int(total), int(own), name))
    # Outermost first: a module whose parent package is listed already is shown under it.
    rows.sort(reverse=True)
    return [
        f"{total / 1000:7.1f} ms cumulative, {own / 1000:6.1f} ms own: {name.strip()}"
        for total, own, name in rows[:top]
    ]


def profile(argv: list[str], env: dict[str, str], top: int) -> list[str]:
    """The functions of ducha and of the libraries that cost most (cumulative), from cProfile."""
    with tempfile.NamedTemporaryFile(suffix=".prof", delete=False) as out:
        path = out.name
    try:
        subprocess.run(
            [str(PYTHON), "-m", "cProfile", "-o", path, str(DUCHA), *argv[1:]],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        stats = pstats.Stats(path)
        entries = stats.stats  # type: ignore[attr-defined]
        total = max(value[3] for value in entries.values())
        rows = []
        for (file, line, function), (_, _, own, cumulative, _) in entries.items():
            if file.startswith(str(ROOT)) and "/.venv/" not in file:
                where = os.path.relpath(file, ROOT)
            elif "site-packages/" in file:
                where = file.split("site-packages/")[1]
            else:
                continue
            rows.append((cumulative, own, f"{where}:{line}({function})"))
        command = max((c for c, _, name in rows if name.startswith("ducha/cli/") and "(main)" not in name
                       and "invoke" not in name and "__init__" not in name), default=total)  # fmt: skip
        # Below the command function (the chain of Typer wrappers above it costs nothing of its own).
        below = sorted((r for r in rows if r[0] < 0.97 * command), reverse=True)[:top]
        by_own = sorted(rows, key=lambda r: r[1], reverse=True)[:8]
        return [
            f"whole run {total:.3f} s under cProfile, {command:.3f} s in the command function; costliest below it:",
            *(f"{c:6.3f} s cumulative, {o:6.3f} s own: {name}" for c, o, name in below),
            "most time of their own:",
            *(f"{c:6.3f} s cumulative, {o:6.3f} s own: {name}" for c, o, name in by_own),
        ]
    finally:
        os.unlink(path)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (at least 15)")
    parser.add_argument("--top", type=int, default=15, help="lines of import times and of the profile")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument(
        "--commands",
        choices=("bench", "all"),
        default="bench",
        help="bench: the three read commands of the target (default); all: every read command of the "
        "demo too (printed only: results.md keeps the default run's section)",
    )
    args = parser.parse_args(argv)
    reads = READS if args.commands == "bench" else (*READS, *ALL_READS)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ducha_startup_") as tmp:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE, encoding="utf-8")
        env = {
            **os.environ,
            "DUCHA_DATABASE_URL": f"sqlite:///{tmp}/ducha.db",
            "DUCHA_EVIDENCE_DIR": f"{tmp}/evidence",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        env.pop("DUCHA_NOW", None)
        # An installed ducha runs from its .pyc files: without this (set in some shells) every run
        # would compile ducha's own modules from source again, which no user's command does.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        log("making the demo database …")
        subprocess.run([str(DUCHA), "demo"], env=env, stdout=subprocess.DEVNULL, check=True)
        todo = commands(bare, reads)
        for argv_ in todo.values():  # warm the file cache and the .pyc files
            run_once(argv_, env)
        runs: dict[str, list[float]] = {name: [] for name in todo}
        cpu: dict[str, list[float]] = {name: [] for name in todo}
        for repeat in range(args.runs):
            order = list(todo.items())
            for name, argv_ in order if repeat % 2 == 0 else reversed(order):
                runs[name].append(run_once(argv_, env, cpu[name]))
        log("measuring where the time goes …")
        imports = importtime(todo["ducha projects"], env, args.top)
        profiled = profile(todo["ducha projects"], env, args.top)
        help_imports = importtime(todo["ducha --help"], env, 8)
    took = time.perf_counter() - started
    median = {name: statistics.median(values) for name, values in runs.items()}
    low = {name: min(values) for name, values in runs.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    base = median["bare command"]
    lines = [
        f"{environment()}; `{' '.join(['bench/startup_bench.py', *argv])}` took {took / 60:.1f} min.",
        f"Each command run {args.runs} times as a separate process, the commands alternating; wall time "
        "from start to exit (the targets), and the CPU time the process used (user + system: on a busy "
        "machine a process waits for a core, and its wall time grows with the wait, its CPU time less). "
        "The read commands run on the demo database (SQLite).",
        "",
        "| command | median s | min s | median / bare command | min / bare command min "
        "| CPU s (median) | CPU / bare command CPU |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| `{name}` | {seconds(median[name])} | {seconds(low[name])} | {median[name] / base:.2f}× "
            f"| {low[name] / low['bare command']:.2f}× | {seconds(cpu_median[name])} "
            f"| {cpu_median[name] / cpu_median['bare command']:.2f}× |"
            for name in todo
        ),
        "",
        "```",
    ]
    verdicts = [
        ("ducha --help", HELP_TARGET, "bare command"),
        ("ducha --help", HELP_TARGET, "bare --help"),
        *((f"ducha {read}", READ_TARGET, "bare command") for read in reads),
    ]
    for name, target, against in verdicts:
        ratio = median[name] / median[against]
        lines.append(
            f"{'PASS' if ratio <= target else 'FAIL'}  {name} {seconds(median[name])} s ≤ {target:g} × {against} "
            f"{seconds(median[against])} s (ratio {ratio:.2f})"
            + (
                "  [for reference; the target is against the bare command]"
                if against == "bare --help"
                else ""
            )
        )
    lines += [
        "```",
        "",
        "`ducha projects`: the costliest imports (`python -X importtime`, cumulative):",
        "",
        "```",
    ]
    lines += [
        *imports,
        "```",
        "",
        "`ducha projects` under cProfile (cumulative, ducha and library functions):",
        "",
    ]
    lines += [
        "```",
        *profiled,
        "```",
        "",
        "`ducha --help`: the costliest imports:",
        "",
        "```",
        *help_imports,
        "```",
    ]
    print("\n".join(lines))
    if args.commands == "bench":
        replace_section(args.out, "CLI start-up: latest results", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
