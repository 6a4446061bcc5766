"""Web benchmark: a page of the project list (API) and the battle map under 50 concurrent clients,
against a bare Starlette floor measured in the same run.

The product is ``ducha serve --no-scheduler`` in a child process, asked as the office's API bearer
token: ``GET /api/v1/projects?limit=50`` (the first page of every project, with the total count) and
``GET /board?programme=1`` (the battle map of a programme of 5,000 projects, HTML). The floor is a bare
Starlette application under the same uvicorn settings, in its own child process: each request checks
the same bearer token with one SQL query (hash, join to the account and the person, expiry, revocation,
disabled login), then runs the product's own statements for the rows — captured verbatim (SQL and
parameters) from one call of the product's read function when the floor starts — through the DBAPI
cursor of a connection from the same kind of pool, and answers the rows as JSON (no template).

The load comes from 50 asyncio clients on keep-alive HTTP/1.1 connections written with bare streams
(the lightest generator there is on a machine where it shares the cores with the server; locust and wrk
are not installed). Two phases per route and server:

- **paced**: each client waits a think time (uniform 0.5–1.5 × ``--think``, 1 s by default) between an
  answer and its next request, so the 50 clients offer about 50 requests a second: the latency an
  office sees (p50, p99);
- **saturated**: no think time (what wrk does): the requests a second each server can answer.

Databases come from bench/village_data.py (with deadlines, alerts and orders): one programme holding
every project at 5,000 projects; programmes of 5,000 at larger sizes, the battle map showing
programme 1.

    .venv/bin/python bench/web_bench.py                                  # PostgreSQL 5,000 and 500,000; SQLite 5,000
    .venv/bin/python bench/web_bench.py --sizes 5000 --backends sqlite --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench_db import HERE, Databases, environment, log, replace_section
from village_data import NOW, VILLAGE_GENERATOR_VERSION, VillageGenerated, generate_villages

DEFAULT_SIZES = "postgresql:5000,postgresql:500000,sqlite:5000"
BOARD_SIZE = 5_000  # projects in the programme the battle map shows
# PostgreSQL database names start with this (DUCHA_BENCH_DB_PREFIX: a checkout benchmarking beside another).
PREFIX = os.environ.get("DUCHA_BENCH_DB_PREFIX", "wt_webbench").rstrip("_") + "_"
CLIENTS = 50
HOST = "127.0.0.1"
ROUTES = {
    "list": "/api/v1/projects?limit=50",
    "board": "/board?programme=1",
}
FLOOR_ROUTES = {"list": "/floor/projects", "board": "/floor/board"}
TARGETS = {  # route -> (p99 limit in ms, at projects on PostgreSQL, max ratio to the floor's p99)
    "list": (50.0, 500_000, 2.0),
    "board": (150.0, 5_000, None),
}
BENCH_PASSWORD = "bench-not-a-real-login-2026"
AFTER_WRITES = 5  # requests timed one by one, each after a write that moves the data generation


# -- the database --------------------------------------------------------------------------------


def generate(url: str, projects: int) -> VillageGenerated:
    return generate_villages(url, projects, programme_size=min(projects, BOARD_SIZE), deadlines=True, log=log)


def office_token(url: str) -> str:
    """A login for the office person (id 1) and an API bearer token for it, made as ``ducha users add``
    and ``ducha users token`` store them; the secret."""
    from pwdlib import PasswordHash
    from sqlmodel import Session

    from ducha.clock import SystemClock
    from ducha.db import make_engine
    from models.users import ApiToken, UserAccount
    from workflows.accounts import digest, new_secret

    now = SystemClock().now()
    engine = make_engine(url)
    secret = new_secret()
    with Session(engine) as session:
        account = UserAccount(
            person_id=1, role="office", password_hash=PasswordHash.recommended().hash(BENCH_PASSWORD),
            created_at=now, created_by_id=1, password_changed_at=now,
        )  # fmt: skip
        session.add(account)
        session.flush()
        assert account.id is not None
        session.add(
            ApiToken(
                token_hash=digest(secret),
                user_id=account.id,
                role="office",
                label="web bench",
                created_at=now,
                expires_at=now + timedelta(days=1),
            )  # fmt: skip
        )
        session.commit()
    engine.dispose()
    return secret


# -- the floor -----------------------------------------------------------------------------------


def captured(url: str, call: Callable[[Any], Any]) -> list[tuple[str, Any]]:
    """The statements (SQL and parameters, as sent to the driver) ``call(session)`` runs."""
    from sqlalchemy import event
    from sqlmodel import Session

    from ducha.db import make_engine

    engine = make_engine(url)
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    with Session(engine) as session:
        call(session)
    engine.dispose()
    return seen


def product_statements(url: str) -> dict[str, list[tuple[str, Any]]]:
    """The statements of the product's reads that fetch the rows: the list page and its count; the
    battle map's tiles."""
    from ducha.api.routes.common import paged
    from models import Programme
    from models.listing import Window
    from workflows.battle_map import battle_map
    from workflows.board import list_projects

    def listing(session: Any) -> None:
        paged(list_projects(session=session, window=Window(50, 0)))

    def board(session: Any) -> None:
        programme = session.get(Programme, 1)
        battle_map(session=session, programme=programme, now=NOW)

    found = {}
    for name, call in (("list", listing), ("board", board)):
        found[name] = [(sql, params) for sql, params in captured(url, call) if "FROM project" in sql]
    assert len(found["list"]) == 2, found["list"]  # the page and the count
    assert len(found["board"]) == 1, found["board"]
    return found


IDENTIFY = """SELECT t.role, t.expires_at, t.revoked_at, a.disabled_at, p.id, p.name
FROM api_token t JOIN user_account a ON a.id = t.user_id JOIN person p ON p.id = a.person_id
WHERE t.token_hash = {mark}"""


def floor_app(url: str) -> Any:
    """The bare Starlette application: token check, the product's statements, JSON."""
    import hashlib
    from datetime import UTC, datetime

    from sqlalchemy.engine import make_url
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from ducha.clock import SystemClock
    from ducha.db import make_engine

    clock = SystemClock()
    statements = product_statements(url)
    for name, found in statements.items():
        log(f"floor {name}: " + " | ".join(" ".join(sql.split())[:160] + " …" for sql, _ in found))
    engine = make_engine(url)
    sqlite = make_url(url).get_backend_name() == "sqlite"
    identify = IDENTIFY.format(mark="?" if sqlite else "%s")

    def moment(value: Any) -> datetime:
        if isinstance(value, str):  # SQLite: SQLAlchemy's UTC wall-time text
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def run(request: Request, name: str) -> Response:
        header = request.headers.get("authorization", "")
        if header[:7].lower() != "bearer ":
            return JSONResponse({"detail": "not logged in"}, status_code=401)
        token = hashlib.sha256(header[7:].strip().encode()).hexdigest()
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(identify, (token,))
            who = cursor.fetchone()
            now = clock.now()
            if who is None or who[2] is not None or who[3] is not None or moment(who[1]) <= now:
                return JSONResponse({"detail": "not logged in"}, status_code=401)
            answers = []
            for sql, params in statements[name]:
                cursor.execute(sql, params)
                columns = [column[0] for column in cursor.description]
                answers.append([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])
            cursor.close()
        finally:
            connection.rollback()
            connection.close()
        body: dict[str, Any] = {"data": answers[0]}
        if len(answers) > 1:
            body["count"] = next(iter(answers[1][0].values()))
        return Response(json.dumps(body, default=str, ensure_ascii=False), media_type="application/json")

    def projects(request: Request) -> Response:
        return run(request, "list")

    def board(request: Request) -> Response:
        return run(request, "board")

    return Starlette(routes=[Route("/floor/projects", projects), Route("/floor/board", board)])


def serve_floor(url: str, port: int) -> None:
    import uvicorn

    # The same settings as ``ducha serve`` (ducha/cli/serve.py).
    uvicorn.run(floor_app(url), host=HOST, port=port, log_level="info", access_log=False)


# -- the servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(name: str, command: list[str], url: str, port: int, log_dir: Path) -> Server:
    env = {**os.environ, "DUCHA_DATABASE_URL": url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    log_path = log_dir / f"web_bench_{name}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, process, port, log_path)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the {name} server stopped: see {log_path}")
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise SystemExit(f"the {name} server did not listen on {port} in 5 minutes: see {log_path}")


# -- the load ------------------------------------------------------------------------------------


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    body = b""
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    seconds: float = 0.0
    bytes: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")


async def _load(
    port: int, path: str, token: str, seconds: float, think: float, clients: int, seed: int
) -> Load:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/html,application/json\r\n\r\n"
    ).encode()
    load = Load()
    loop = asyncio.get_running_loop()
    began = loop.time()
    stop_at = began + seconds

    async def client(number: int) -> None:
        rng = random.Random(f"{seed}:{number}")
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            if think:
                await asyncio.sleep(rng.uniform(0, think))
            while loop.time() < stop_at:
                started = time.perf_counter()
                writer.write(request)
                status, body = await _answer(reader)
                load.latencies.append(time.perf_counter() - started)
                load.bytes += len(body)
                if status != 200:
                    load.errors += 1
                if think:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
        finally:
            writer.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    load.seconds = loop.time() - began
    return load


def load(port: int, path: str, token: str, seconds: float, think: float, clients: int = CLIENTS) -> Load:
    return asyncio.run(_load(port, path, token, seconds, think, clients, seed=port))


def fetch(port: int, path: str, token: str) -> tuple[int, bytes]:
    async def once() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        answer = await _answer(reader)
        writer.close()
        return answer

    return asyncio.run(once())


def after_writes(url: str, port: int, path: str, token: str, times: int = AFTER_WRITES) -> list[float]:
    """Milliseconds of ``times`` requests, each right after a committed write (from this process, on a
    connection of its own) that moves the data generation: the answers the product keeps are no longer
    good, and the request goes the uncached way (the list's page reads its count again; the battle
    map is read and written again)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    seen = []
    try:
        for _ in range(times):
            with engine.begin() as connection:  # a watched table, no value changed
                connection.execute(text("UPDATE programme SET name = name WHERE id = 1"))
            started = time.perf_counter()
            status, _ = fetch(port, path, token)
            seen.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
    finally:
        engine.dispose()
    return seen


# -- a measurement -------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    projects: int
    route: str
    shown: int  # rows in the page or tiles on the map
    bytes: int  # of one answer: product, floor
    floor_bytes: int
    paced: dict[str, Load]  # "product"/"floor"
    saturated: dict[str, Load]
    alone: dict[str, Load] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    after_write: list[float] = field(default_factory=list)  # ms, product, each request after a write


def check_same(route: str, product: bytes, floor: bytes) -> int:
    """The product's answer shows the floor's rows: the same ids in the same order (and the same count)."""
    rows = json.loads(floor)
    if route == "list":
        mine = json.loads(product)
        ids = [row["id"] for row in mine["data"]]
        assert ids == [row["id"] for row in rows["data"]], "the list pages differ"
        assert mine["count"] == rows["count"], (mine["count"], rows["count"])
        return len(ids)
    html = product.decode()
    codes = [row["code"] for row in rows["data"]]
    positions = [html.find(f">{code}<") if f">{code}<" in html else html.find(code) for code in codes]
    assert all(p >= 0 for p in positions), "a tile of the floor is not on the battle map"
    assert positions == sorted(positions), "the battle map shows the tiles in another order"
    return len(codes)


def measure(backend: str, projects: int, url: str, args: argparse.Namespace, log_dir: Path) -> list[Result]:
    token = office_token(url)
    python = sys.executable
    ducha = str(Path(python).with_name("ducha"))
    product_port, floor_port = free_port(), free_port()
    at = NOW.isoformat()
    servers = [
        start("product", [ducha, "serve", "--no-scheduler", "--host", HOST, "--port", str(product_port), "--at", at],
              url, product_port, log_dir),
        start("floor", [python, __file__, "--floor-child", "--url", url, "--port", str(floor_port)],
              url, floor_port, log_dir),
    ]  # fmt: skip
    results = []
    try:
        for route, path in ROUTES.items():
            floor_path = FLOOR_ROUTES[route]
            status, product_body = fetch(product_port, path, token)
            assert status == 200, (status, product_body[:300])
            status, floor_body = fetch(floor_port, floor_path, token)
            assert status == 200, (status, floor_body[:300])
            shown = check_same(route, product_body, floor_body)
            result = Result(backend, projects, route, shown, len(product_body), len(floor_body), {}, {})
            targets = {"product": (product_port, path), "floor": (floor_port, floor_path)}
            for port, where in targets.values():  # warm up: every pooled connection, the caches
                load(port, where, token, args.warmup, 0.0)
            result.after_write = after_writes(url, product_port, path, token)
            result.runs.append(
                "product after a write (uncached): "
                + ", ".join(f"{value:.1f}" for value in result.after_write)
                + " ms"
            )
            log(f"  {backend} {projects:,} {route} {result.runs[-1]}")
            phases = (
                ("alone", args.alone, 0.0, 1),
                ("paced", args.duration, args.think, CLIENTS),
                ("saturated", args.saturate, 0.0, CLIENTS),
            )
            for phase, seconds, think, clients in phases:
                for repeat in range(args.repeats):
                    for name, (port, where) in targets.items():
                        measured = load(port, where, token, seconds, think, clients)
                        if measured.errors:
                            raise SystemExit(f"{name} {where}: {measured.errors} answers were not 200")
                        stored = getattr(result, phase)
                        if name in stored:  # repeats pool their samples
                            stored[name].latencies += measured.latencies
                            stored[name].seconds += measured.seconds
                        else:
                            stored[name] = measured
                        result.runs.append(
                            f"{phase} {name} #{repeat + 1}: {len(measured.latencies)} requests, "
                            f"p50 {measured.percentile(50):.1f} ms, p99 {measured.percentile(99):.1f} ms, "
                            f"{measured.rate:.1f}/s"
                        )
                        log(f"  {backend} {projects:,} {route} {result.runs[-1]}")
            results.append(result)
    finally:
        for server in servers:
            server.stop()
    return results


# -- the report ----------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(results: Sequence[Result]) -> list[str]:
    lines = [
        "| backend | projects | route | rows shown | alone p50 ms | floor alone p50 ms | p50 ms | p99 ms | floor p50 ms | floor p99 ms | p99 × floor "
        "| req/s paced | saturated req/s | floor saturated req/s | saturated × floor | after a write ms |",
        "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        product, floor = r.paced["product"], r.paced["floor"]
        top, floor_top = r.saturated["product"].rate, r.saturated["floor"].rate
        lines.append(
            f"| {r.backend} | {r.projects:,} | {r.route} | {r.shown:,} | {ms(r.alone['product'].percentile(50))} "
            f"| {ms(r.alone['floor'].percentile(50))} | {ms(product.percentile(50))} "
            f"| {ms(product.percentile(99))} | {ms(floor.percentile(50))} | {ms(floor.percentile(99))} "
            f"| {product.percentile(99) / floor.percentile(99):.2f} | {product.rate:.1f} | {top:.1f} "
            f"| {floor_top:.1f} | {top / floor_top:.2f} | {ms(statistics.median(r.after_write))} |"
        )
    return lines


def checks(results: Sequence[Result]) -> list[str]:
    lines = []
    for r in results:
        limit, at, ratio = TARGETS[r.route]
        if r.backend != "postgresql" or r.projects != at:
            continue
        p99, floor = r.paced["product"].percentile(99), r.paced["floor"].percentile(99)
        ok = p99 < limit
        lines.append(
            f"{'PASS' if ok else 'FAIL'} {r.route} p99 {p99:.1f} ms < {limit:.0f} ms at {at:,} projects"
        )
        if ratio is not None:
            ok = p99 <= ratio * floor
            lines.append(
                f"{'PASS' if ok else 'FAIL'} {r.route} p99 {p99 / floor:.2f} × its floor's ({floor:.1f} ms) "
                f"<= {ratio:.0f}× at {at:,} projects"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=DEFAULT_SIZES, help="backend:projects, comma-separated")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each paced run")
    parser.add_argument("--saturate", type=float, default=10.0, help="seconds of each saturated run")
    parser.add_argument("--alone", type=float, default=5.0, help="seconds of each one-client run")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of saturated warm-up per server")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds a paced client waits")
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs of each phase, product and floor alternating"
    )
    parser.add_argument("--cache-dir", type=Path, default=HERE / ".cache")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--generate-only", action="store_true", help="make the templates and stop")
    parser.add_argument("--floor-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_child:
        serve_floor(args.url, args.port)
        return 0
    cases = []
    for case in args.cases.split(","):
        backend, _, size = case.strip().partition(":")
        cases.append((backend, int(size.replace("_", ""))))
    started = time.perf_counter()
    load_start = os.getloadavg()[1]
    results: list[Result] = []
    for backend in dict.fromkeys(backend for backend, _ in cases):
        databases = Databases(
            "web", backend, args.cache_dir, args.keep, VILLAGE_GENERATOR_VERSION, generate, VillageGenerated,
            prefix=PREFIX,
        )  # fmt: skip
        try:
            for projects in sorted(n for b, n in cases if b == backend):
                databases.template(projects)
                if args.generate_only:
                    continue
                with databases.working_copy(projects) as url:
                    log(f"measuring {backend} {projects:,} …")
                    results += measure(backend, projects, url, args, args.cache_dir)
                log("\n".join(table(results)[2:]))
        finally:
            databases.close()
    if args.generate_only:
        return 0
    took = time.perf_counter() - started
    check_lines = checks(results)
    print("\n".join([*table(results), "", *check_lines, f"\ntook {took / 60:.1f} min"]))
    load_end = os.getloadavg()[1]
    lines = [
        f"{environment()}; `{' '.join(['bench/web_bench.py', *argv])}` took {took / 60:.1f} min "
        f"(generation included); load average (5 min) {load_start:.1f} at the start, {load_end:.1f} at "
        "the end: the machine is shared, the servers, PostgreSQL and the clients share its cores.",
        f"{CLIENTS} clients on loopback, the office's bearer token; list = `GET {ROUTES['list']}`, "
        f"board = `GET {ROUTES['board']}` (a programme of {BOARD_SIZE:,}); paced runs {args.think:g} s mean "
        f"think time, {args.repeats} × {args.duration:g} s; one-client runs {args.repeats} × {args.alone:g} s; saturated runs no think time, "
        f"{args.repeats} × {args.saturate:g} s. Column meanings: bench/README.md.",
        "",
        *table(results),
        "",
        "```",
        *check_lines,
        "```",
        "",
        "All runs:",
        "",
        *(f"- {r.backend} {r.projects:,} {r.route}: " + "; ".join(r.runs) for r in results),
    ]
    replace_section(args.out, "Web: latest results", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
