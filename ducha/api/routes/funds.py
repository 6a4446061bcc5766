"""The fund trail for auditors: a programme's money by source and project, a project's movements with
their running balances, the latest signed checkpoint, the ledger verified now, and the fund audit:
its findings (read), and a run of the audit rules (an auditor or the office: the one write here).

Programme-wide money answers only logins that see everything (403 otherwise: the totals would tell a
town's login about other towns); a project's trail answers anyone who sees the project (404 otherwise).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.routes.common import Limit, Offset, Page, paged, require_whole_view, scoped_project, window
from funds.reads import Summary, TrailRow
from models.errors import NotFound

router = APIRouter(tags=["funds"])


@router.get("/programmes/{programme}/funds", response_model=Summary)
def programme_funds(programme: str, user: CurrentUser, session: ReadSession, now: Now) -> Summary:
    """Allocated, disbursed, reserved, spent, owed and idle money (fen) by source and by project."""
    from funds.reads import summary
    from workflows.programmes import find_programme

    require_whole_view(user, "read a programme's money")
    return summary(session=session, programme=find_programme(session=session, ref=programme), at=now)


@router.get("/projects/{project}/trail", response_model=Page[TrailRow])
def project_trail(
    project: str, user: CurrentUser, session: ReadSession, now: Now, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Every movement of the project's money in log order, each with its account's balance after it."""
    from funds.reads import trail

    found = scoped_project(session, user, project)
    return paged(trail(session=session, project=found, at=now, window=window(limit, offset)))


class CheckpointOut(BaseModel):
    programme_id: int
    tree_size: int
    root_hash: str  # base64, as in the signed note
    signed_at: datetime
    reason: str
    note: str  # the signed note (C2SP tlog-checkpoint): what an auditor keeps


@router.get("/programmes/{programme}/checkpoint", response_model=CheckpointOut)
def programme_checkpoint(programme: str, user: CurrentUser, session: ReadSession) -> CheckpointOut:
    """The programme log's latest signed checkpoint; keep it to prove later that nothing was cut off."""
    from funds.checkpoints import latest_checkpoint
    from workflows.programmes import find_programme

    require_whole_view(user, "read the ledger's checkpoints")
    chosen = find_programme(session=session, ref=programme)
    assert chosen.id is not None
    found = latest_checkpoint(session, chosen.id)
    if found is None:
        raise NotFound(f"programme {chosen.id} has no signed checkpoint yet (ducha audit keygen)")
    return CheckpointOut(
        programme_id=found.programme_id,
        tree_size=found.tree_size,
        root_hash=base64.b64encode(found.root_hash).decode(),
        signed_at=found.signed_at,
        reason=found.reason,
        note=found.note,
    )


class LogOut(BaseModel):
    origin: str
    entries: int
    checkpoints: int
    latest_checkpoint: str | None


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    logs: list[LogOut]
    problems: list[str]


@router.get("/ledger/verify", response_model=VerifyOut)
def verify(user: CurrentUser, session: ReadSession, context: ContextDep) -> VerifyOut:
    """Recompute every entry's hash and balance, every tree and every checkpoint's signature, now."""
    from funds.verify import verify_ledger

    require_whole_view(user, "verify the ledger")
    report = verify_ledger(session=session, verifiers=[s.verifier() for s in context.signers()])
    return VerifyOut(
        ok=report.ok,
        entries=report.entries,
        logs=[
            LogOut(
                origin=log.origin,
                entries=log.entries,
                checkpoints=log.checkpoints,
                latest_checkpoint=log.latest,
            )
            for log in report.logs
        ],
        problems=[problem.line() for problem in report.all_problems()],
    )


@router.get("/programmes/{programme}/audit/findings")
def audit_findings(programme: str, user: CurrentUser, session: ReadSession) -> dict[str, Any]:
    """Every finding the fund audits recorded, with its evidence (entry numbers) and its order."""
    from dataclasses import asdict

    from workflows.fund_audit import audit_findings as recorded

    require_whole_view(user, "read the fund audit's findings")
    rows = recorded(session=session, programme=programme)
    return {"count": len(rows), "data": [asdict(row) for row in rows]}


@router.post("/programmes/{programme}/audit", dependencies=[CsrfChecked])
def run_audit(
    programme: str, request: Request, user: CurrentUser, context: ContextDep, now: Now
) -> dict[str, Any]:
    """Run the audit rules in force now: new findings become rectification orders (a rerun adds none)."""
    from workflows.fund_audit import run_fund_audit

    rules = context.audit_rules()
    with web_transaction(request, context, user, action="fund audit run", subject=programme, at=now) as (
        session,
        write,
    ):
        runs = run_fund_audit(
            session=session,
            now=now,
            calendar=context.calendar,
            rules=rules,
            actor=user.person,
            programme=programme,
            deadline_days=context.deadline_days,
            notices=context.notices,
        )
        write.after = {
            "new": [f.record_id for run in runs for f in run.new],
            "cleared": runs[0].cleared,
            "orders": runs[0].orders,
        }
    run = runs[0]
    return {
        "programme": run.programme,
        "as_of": run.as_of,
        "rules": [rule.plain() for rule in run.rules],
        "findings": [
            {
                "id": found.record_id,
                "rule": found.rule.key,
                "project": found.finding.project,
                "fund": found.finding.fund,
                "amount_fen": found.finding.amount_fen,
                "evidence": list(found.finding.evidence),
                "description": found.finding.description,
                "detail": found.finding.detail,
                "new": found.new,
                "order_id": found.order_id,
            }
            for found in run.found
        ],
        "cleared": run.cleared,
        "orders": run.orders,
    }
