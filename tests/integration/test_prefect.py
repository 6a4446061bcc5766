"""The distributed mode: the flows' return values, and the sweep deployment on a real Prefect server.

The server test (PostgreSQL only, like an office's installation) starts ``prefect server``, creates
the process work pool, deploys deploy/prefect.yaml as an office would, and lets a worker run the
sweep deployment twice for 4 January 2027: the alerts of one sweep land, the second run adds none.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.responses import DeploymentResponse
from prefect.logging import disable_run_logger
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import Session, col, func, select

from ducha.db import make_engine
from ducha.flows import audit_funds, daily_deadlines, deadline_sweep
from models import Alert, Deadline, DeadlineKind, Notice
from tests.integration.conftest import PostgresDatabases, Sink, js
from workflows.sweep import SweepResult, sweep

REPO = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
POOL = "ducha-process"
AS_OF = "2027-01-04T09:00:00+08:00"
AS_OF_UTC = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
SERVER_START_SECONDS, COMMAND_SECONDS, RUN_SECONDS = 60, 60, 60


def sweep_rolled_back(url: str, now: datetime) -> SweepResult:
    """What a sweep at ``now`` would raise, leaving the database as it was."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            result = sweep(session=session, now=now)
            session.rollback()
    finally:
        engine.dispose()
    return result


def alert_counts(url: str) -> tuple[int, Counter[str], Counter[str]]:
    """Alerts in the database: in all, by level name, by deadline kind."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(Alert.name, Deadline.kind).join(Deadline, col(Deadline.id) == col(Alert.deadline_id))
            ).all()
    finally:
        engine.dispose()
    return len(rows), Counter(name for name, _ in rows), Counter(str(kind) for _, kind in rows)


def notices(url: str, state: str | None = None) -> int:
    """Notices the sweep wrote (the inspections' own came with the demo, before it)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            query = select(func.count()).select_from(Notice).where(col(Notice.cause) == "alert")
            if state is not None:
                query = query.where(col(Notice.state) == state)
            return session.exec(query).one()
    finally:
        engine.dispose()


def cadence_deadlines(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return session.exec(
                select(func.count()).select_from(Deadline).where(col(Deadline.kind) == DeadlineKind.CADENCE)
            ).one()
    finally:
        engine.dispose()


def test_the_flows_return_plain_counts(demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = demo
    expected = sweep_rolled_back(database_url, AS_OF_UTC)
    assert expected.by_level["overdue"] > 0
    monkeypatch.setenv("DUCHA_DATABASE_URL", database_url)
    with disable_run_logger():  # .fn runs the function alone: no flow run, so no run logger
        swept = deadline_sweep.fn(as_of=datetime.fromisoformat(AS_OF))
        again = deadline_sweep.fn(as_of=datetime(2027, 1, 4, 9, 0))  # naive: Shanghai time
        monkeypatch.setenv("DUCHA_NOW", AS_OF)
        daily = daily_deadlines.fn()
        daily_again = daily_deadlines.fn()
        audited = audit_funds.fn()
        audited_again = audit_funds.fn()
    assert swept == {
        "as_of": "2027-01-04T01:00:00+00:00",
        "raised": expected.raised,
        "by_level": expected.by_level,
        "by_kind": expected.by_kind,
        "no_recipient": 0,  # the demo has someone in every role its alerts tell
        "notices": notices(database_url),
        "notices_passed": notices(database_url, "passed"),
    }
    assert swept["notices"] > swept["notices_passed"] > 0
    assert again == {
        "as_of": "2027-01-04T01:00:00+00:00",
        "raised": 0,
        "by_level": {},
        "by_kind": {},
        "no_recipient": 0,
        "notices": 0,
        "notices_passed": 0,
    }
    assert daily["as_of"] == "2027-01-04T01:00:00+00:00"
    assert daily["cadences_opened"] == cadence_deadlines(database_url) > 0
    assert (daily_again["opened"], daily_again["cadences_opened"]) == (0, 0)
    # The fund audit: the planted problems become orders once; the checkpoints go to the auditor once.
    assert audited["new"] == audited["findings"] >= 4 and audited["orders"] >= 4
    assert audited["checkpoint_notices"] > 0
    assert (audited_again["new"], audited_again["orders"], audited_again["checkpoint_notices"]) == (0, 0, 0)


# --- a real Prefect server --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(what: str, condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes], first: signal.Signals) -> None:
    """Stop a process started in its own session, with its children; kill it if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, first)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class PrefectServer:
    """A Prefect server on a free local port, with its own PREFECT_HOME; logs go to files there."""

    api_url: str
    home: Path
    env: dict[str, str]
    logs: list[Path] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.home / f"{name}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            return subprocess.Popen(
                [*PREFECT, *args],
                env={**self.env, **extra_env},
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def cli(self, *args: str, cwd: Path = REPO, extra_env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [*PREFECT, "--no-prompt", *args],
            env={**self.env, **(extra_env or {})},
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_SECONDS,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def dump_logs(self) -> None:
        for log in self.logs:
            print(f"----- {log.name} -----\n{log.read_text(errors='replace')[-20_000:]}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    # Nothing from the caller's Prefect profile or ducha settings leaks into the server or the worker.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DUCHA_"))}
    server = PrefectServer(
        api_url=f"http://127.0.0.1:{port}/api",
        home=home,
        env={
            **clean,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
            # The test starts its runs by hand: no scheduled runs may slip in between.
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        },
    )
    process = server.spawn("server", ["server", "start", "--host", "127.0.0.1", "--port", str(port)], {})
    try:
        try:
            _wait_for(
                "the Prefect server",
                lambda: process.poll() is not None or server.healthy(),
                SERVER_START_SECONDS,
            )
            assert process.poll() is None, "the Prefect server exited"
        except AssertionError:
            server.dump_logs()
            raise
        yield server
    finally:
        _stop(process, signal.SIGTERM)


def crons(deployment: DeploymentResponse) -> list[tuple[str, str]]:
    return [
        (s.schedule.model_dump()["cron"], s.schedule.model_dump()["timezone"]) for s in deployment.schedules
    ]


def run_deployment(server: PrefectServer, name: str, as_of: str, expect_log: str) -> tuple[FlowRun, str]:
    """Start a run of deployment ``name`` and wait until it ends and ``expect_log`` has reached the API."""
    with temporary_settings({PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        flow_run = client.create_flow_run_from_deployment(deployment.id, parameters={"as_of": as_of})
        run_id: UUID = flow_run.id

        def ended() -> bool:
            nonlocal flow_run
            flow_run = client.read_flow_run(run_id)
            return flow_run.state is not None and flow_run.state.is_final()

        _wait_for(f"flow run {flow_run.name} of {name}", ended, RUN_SECONDS)
        messages = ""

        def logged() -> bool:
            nonlocal messages
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            messages = "\n".join(log.message for log in logs)
            return expect_log in messages or flow_run.state is None or not flow_run.state.is_completed()

        _wait_for(f"the logs of flow run {flow_run.name}", logged, 15)
    return flow_run, messages


@pytest.mark.postgres
def test_a_worker_runs_the_sweep_deployment_once_per_level(
    postgres_databases: PostgresDatabases, prefect_server: PrefectServer, tmp_path: Path, sink: Sink
) -> None:
    mail = sink
    url = postgres_databases.fresh(template=postgres_databases.demo(tmp_path / "evidence")[0])
    expected = sweep_rolled_back(url, AS_OF_UTC)
    not_started = {p["code"] for p in js(url, "board", "--at", AS_OF)["not_started"]}
    assert expected.raised > 0 and not_started
    server = prefect_server
    worker = None
    try:
        server.cli("work-pool", "create", "--type", "process", POOL)
        # As an office deploys: from deploy/, with the database URL in the environment.
        server.cli("deploy", "--all", cwd=REPO / "deploy", extra_env={"DUCHA_DATABASE_URL": url})
        with temporary_settings({PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
            sweep_deployment = client.read_deployment_by_name("deadline-sweep/deadline-sweep")
            daily_deployment = client.read_deployment_by_name("daily-deadlines/daily-deadlines")
            audit_deployment = client.read_deployment_by_name("audit-funds/audit-funds")
        assert crons(sweep_deployment) == [("*/15 * * * *", "Asia/Shanghai")]
        assert crons(daily_deployment) == [("30 6 * * *", "Asia/Shanghai")]
        assert crons(audit_deployment) == [("0 7 * * *", "Asia/Shanghai")]
        assert sweep_deployment.job_variables == {"env": {"DUCHA_DATABASE_URL": url}}
        # The worker knows the checkout (the pull step), not the database: that comes with the deployment.
        # The notice settings come from the worker's environment (their secrets stay on the worker).
        worker = server.spawn(
            "worker",
            ["worker", "start", "--pool", POOL],
            {"DUCHA_REPO": str(REPO), "PREFECT_WORKER_QUERY_SECONDS": "1", "DUCHA_SMTP_URL": mail.url},
        )

        first, logs = run_deployment(server, "deadline-sweep/deadline-sweep", AS_OF, "alert(s) raised")
        assert first.state is not None and first.state.is_completed(), first.state
        assert f"sweep as of 2027-01-04 09:00 CST: {expected.raised} alert(s) raised" in logs
        raised, by_level, by_kind = alert_counts(url)
        assert (raised, by_level, by_kind) == (
            expected.raised,
            Counter(expected.by_level),
            Counter(expected.by_kind),
        )
        overdue = [a for a in js(url, "alerts", "--level", "overdue")["data"] if "全部开工" in a["title"]]
        assert sorted(a["project_code"] for a in overdue) == sorted(not_started)

        second, logs = run_deployment(server, "deadline-sweep/deadline-sweep", AS_OF, "alert(s) raised")
        assert second.state is not None and second.state.is_completed(), second.state
        assert "sweep as of 2027-01-04 09:00 CST: 0 alert(s) raised" in logs
        assert alert_counts(url) == (raised, by_level, by_kind)

        sent, logs = run_deployment(server, "dispatch-notices/dispatch-notices", AS_OF, "dispatch as of")
        assert sent.state is not None and sent.state.is_completed(), sent.state
        mails = [m for _, m in mail.mails if m["Subject"].startswith("【逾期通知】")]
        assert mails and f"{len(mail.mails)} accepted" in logs

        daily, logs = run_deployment(
            server, "daily-deadlines/daily-deadlines", AS_OF, "daily deadlines as of"
        )
        assert daily.state is not None and daily.state.is_completed(), daily.state
        opened = cadence_deadlines(url)
        assert opened > 0 and f"cadences {opened} opened" in logs
    except BaseException:
        server.dump_logs()
        raise
    finally:
        if worker is not None:
            _stop(worker, signal.SIGINT)  # Ctrl-C: no new runs; the ones it started finish
