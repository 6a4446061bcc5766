"""The auditor's pages: a programme's money by source (an SVG chart and the tables behind it), a
project's trail with its running balances, and the ledger's verification with its latest checkpoint.

Programme-wide money is read by logins that see everything (office, leadership, auditor, admin); a
project's trail by anyone who sees the project (others get 404, as for a project that does not exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from ducha.api.deps import ContextDep, CurrentUser, Now, ReadSession
from ducha.api.routes.common import require_whole_view, scoped_project
from ducha.web.pages.board import programme_of
from ducha.web.templating import page
from funds.reads import FundSummary
from workflows.login import Identity

router = APIRouter()
TRAIL_PAGE = 500  # movements shown on one trail page; the CSV/XLSX export holds them all
BAR_WIDTH = 480  # the chart's longest bar, in SVG units


@dataclass(frozen=True)
class Bar:
    label: str
    fen: int
    width: int
    css: str


@dataclass(frozen=True)
class SourceBars:
    fund: str
    name: str
    budget_fen: int
    bars: list[Bar]


def chart(rows: Sequence[FundSummary]) -> list[SourceBars]:
    """Bars of allocated, disbursed and spent money per source, scaled to the largest budget or sum."""
    largest = max([1] + [max(f.budget_fen, f.position.allocated_fen) for f in rows])
    out = []
    for f in rows:
        p = f.position
        bars = [
            Bar(
                "已分配 allocated", p.allocated_fen, BAR_WIDTH * max(p.allocated_fen, 0) // largest, "b-alloc"
            ),
            Bar(
                "已拨付 disbursed", p.disbursed_fen, BAR_WIDTH * max(p.disbursed_fen, 0) // largest, "b-disb"
            ),
            Bar("已支出 spent", p.spent_fen, BAR_WIDTH * max(p.spent_fen, 0) // largest, "b-spent"),
        ]
        out.append(SourceBars(f.fund, f.name, f.budget_fen, bars))
    return out


@router.get("/funds")
def funds_home(
    request: Request,
    user: CurrentUser,
    session: ReadSession,
    now: Now,
    programme: str | None = Query(None, max_length=200),
) -> Response:
    """The money of the programme asked for, else of the first one."""
    return _funds(programme, request, user, session, now)


@router.get("/programmes/{programme}/funds")
def funds_page(
    programme: str, request: Request, user: CurrentUser, session: ReadSession, now: Now
) -> Response:
    """Allocated, disbursed, reserved, spent, owed and idle money by source and by project."""
    return _funds(programme, request, user, session, now)


def _funds(
    programme: str | None, request: Request, user: Identity, session: Session, now: datetime
) -> Response:
    from funds.reads import summary

    require_whole_view(user, "read a programme's money")
    chosen = programme_of(session, programme)
    report = summary(session=session, programme=chosen, at=now)
    return page(
        request,
        "funds.html",
        programme=chosen,
        report=report,
        sources=chart(report.funds),
        bar_width=BAR_WIDTH,
    )


@router.get("/projects/{code}/trail")
def trail_page(code: str, request: Request, user: CurrentUser, session: ReadSession, now: Now) -> Response:
    """Every movement of the project's money with its running balance, voucher, evidence and hash."""
    from funds.checkpoints import latest_checkpoint
    from funds.reads import trail
    from models.listing import Window

    project = scoped_project(session, user, code)
    rows = trail(session=session, project=project, at=now, window=Window(TRAIL_PAGE))
    shown = list(rows)
    checkpoint = latest_checkpoint(session, project.programme_id) if user.scope.everything else None
    return page(
        request,
        "trail.html",
        project=project,
        rows=shown,
        count=rows.count(),
        checkpoint=checkpoint,
        can_verify=user.scope.everything,
    )


@router.get("/ledger/verify")
def verify_fragment(
    request: Request, user: CurrentUser, session: ReadSession, context: ContextDep
) -> Response:
    """The ledger verified now (every entry's hash and balance, the tree, every checkpoint's signature);
    a fragment the trail and funds pages fetch when asked (it reads the whole ledger: never on load)."""
    from funds.verify import verify_ledger

    require_whole_view(user, "verify the ledger")
    verifiers = [signer.verifier() for signer in context.signers()]
    report = verify_ledger(session=session, verifiers=verifiers)
    return page(request, "verify_fragment.html", report=report, problems=report.all_problems())
