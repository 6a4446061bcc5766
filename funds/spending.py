"""What a project does with its money, as balanced entries: spend, commit, pay, void, payable, refund,
and the reversal that corrects any entry.

A project's headroom in a fund is what it may still commit: its allocation not yet disbursed, plus
its bank account, less what it owes vendors (payables not yet paid). Spending, a commitment or a
payable beyond the headroom, or a payment beyond the bank account, is refused unless the office
overrides it with a reason (``override``), which the entry records. A payment at or above the
approval threshold goes through a commitment that someone approved (``commit``), then ``pay``.
"""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from funds.accounts import Kind, account
from funds.journal import Draft, Log, Who
from funds.operations import (
    Context,
    OverLimit,
    Recorded,
    at_least,
    draft,
    fen,
    record,
    request_of,
)
from models import FundingSource, Project, format_yuan
from models.errors import BadInput, Refused
from models.ledger import LedgerAccount, Vendor


@dataclass(frozen=True)
class Purchase:
    """What a payment is for: the category, the vendor, the voucher (凭证号) and invoice (发票号), files."""

    category: str | None
    vendor: Vendor | None = None
    voucher: str | None = None
    invoice: str | None = None
    documents: tuple[tuple[str, str], ...] = ()  # (sha256, file name)
    memo: str | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "vendor": {"name": self.vendor.name, "small_firm": self.vendor.small_firm}
            if self.vendor
            else None,
            "vendor_id": self.vendor.id if self.vendor else None,
            "voucher": self.voucher,
            "invoice": self.invoice,
            "memo": self.memo,
            "documents": [{"name": name, "sha256": sha} for sha, name in self.documents],
        }

    def request(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "vendor.name": self.vendor.name if self.vendor else None,
            "voucher": self.voucher,
            "invoice": self.invoice,
            "memo": self.memo,
            "documents": [sha for sha, _ in self.documents],
        }


def headroom(log: Log, fund: FundingSource, project: Project) -> int:
    """Allocation not yet disbursed + bank − payables not yet paid, of the project in the fund."""
    owed = log.session.exec(
        select(LedgerAccount.id).where(
            col(LedgerAccount.project_id) == project.id,
            col(LedgerAccount.fund_id) == fund.id,
            col(LedgerAccount.kind) == Kind.PAYABLE.value,
        )
    ).all()
    ids = [account(log, fund, Kind.ALLOCATION, project).id, account(log, fund, Kind.BANK, project).id]
    return sum(log.lock([*ids, *(i for i in owed if i is not None)]).values())


def within_limits(
    log: Log,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    override: str | None,
    *,
    cash: bool,
    room: bool,
) -> dict[str, Any] | None:
    """Check the headroom and (``cash``) the bank account; return the override recorded, if one was needed."""
    problems = []
    if room:
        left = headroom(log, fund, project)
        if left < amount:
            problems.append(f"beyond its allocation ({format_yuan(left)} left in fund {fund.code})")
    if cash:
        bank = account(log, fund, Kind.BANK, project)
        held = log.lock([bank.id])[bank.id]
        if held < amount:
            problems.append(f"more than its bank account {bank.code} holds ({format_yuan(held)})")
    if not problems:
        return None
    if override is None:
        raise OverLimit(
            f"{project.code}: {format_yuan(amount)} is {'; '.join(problems)}: refused "
            "(disburse first, or the office overrides it with --override-reason)"
        )
    return {"by": ctx.actor.plain() if ctx.actor else None, "reason": override}


def spend(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    purchase: Purchase,
    override: str | None,
    threshold: int | None,
) -> Recorded:
    """Spend from the project's bank account on a category, with a voucher (below the approval threshold)."""
    amount = fen(amount)
    if threshold is not None and amount >= threshold:
        raise Refused(
            f"{project.code}: {format_yuan(amount)} is at or above the approval threshold "
            f"{format_yuan(threshold)}: commit it with --approved-by, then pay it"
        )
    request = request_of(
        ctx, kind="spend", fund=fund.code, project=project.code, amount=amount, **request_fields(purchase)
    )

    def build(log: Log) -> list[Draft]:
        assert purchase.category is not None
        expense = account(log, fund, Kind.EXPENSE, project, category=purchase.category)
        bank = account(log, fund, Kind.BANK, project)
        overridden = within_limits(log, ctx, fund, project, amount, override, cash=True, room=True)
        postings = [(expense, amount), (bank, -amount)]
        return [
            draft(
                ctx,
                "spend",
                fund,
                amount,
                postings,
                project=project,
                override=overridden,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def commit(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    purchase: Purchase,
    approver: Who,
    approval: str | None,
    override: str | None,
) -> Recorded:
    """Reserve an approved payment: the money leaves the bank account for the reservation."""
    amount = fen(amount)
    request = request_of(
        ctx,
        kind="commit",
        fund=fund.code,
        project=project.code,
        amount=amount,
        approval__by__id=approver.id,
        approval__ref=approval,
        **request_fields(purchase),
    )

    def build(log: Log) -> list[Draft]:
        reserved = account(log, fund, Kind.RESERVED, project)
        bank = account(log, fund, Kind.BANK, project)
        overridden = within_limits(log, ctx, fund, project, amount, override, cash=True, room=True)
        return [
            draft(
                ctx,
                "commit",
                fund,
                amount,
                [(reserved, amount), (bank, -amount)],
                project=project,
                approval={"by": approver.plain(), "ref": approval},
                override=overridden,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def payable(
    *,
    session: Session,
    ctx: Context,
    fund: FundingSource,
    project: Project,
    amount: int,
    purchase: Purchase,
    override: str | None,
) -> Recorded:
    """Record what is owed to a vendor for goods or works accepted (验收): spent, not yet paid."""
    amount = fen(amount)
    if purchase.vendor is None:
        raise BadInput("a payable names its vendor (--vendor)")
    request = request_of(
        ctx, kind="payable", fund=fund.code, project=project.code, amount=amount, **request_fields(purchase)
    )

    def build(log: Log) -> list[Draft]:
        assert purchase.category is not None
        expense = account(log, fund, Kind.EXPENSE, project, category=purchase.category)
        owed = account(log, fund, Kind.PAYABLE, project, vendor=purchase.vendor)
        overridden = within_limits(log, ctx, fund, project, amount, override, cash=False, room=True)
        postings = [(expense, amount), (owed, -amount)]
        return [
            draft(
                ctx,
                "payable",
                fund,
                amount,
                postings,
                project=project,
                override=overridden,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def refund(
    *, session: Session, ctx: Context, fund: FundingSource, project: Project, amount: int, purchase: Purchase
) -> Recorded:
    """Money a vendor returns: back into the bank account, out of the category it was spent on."""
    amount = fen(amount)
    request = request_of(
        ctx, kind="refund", fund=fund.code, project=project.code, amount=amount, **request_fields(purchase)
    )

    def build(log: Log) -> list[Draft]:
        assert purchase.category is not None
        expense = account(log, fund, Kind.EXPENSE, project, category=purchase.category)
        bank = account(log, fund, Kind.BANK, project)
        at_least(
            log, expense, amount, f"{project.code}: a refund is at most what was spent on {purchase.category}"
        )
        return [
            draft(
                ctx,
                "refund",
                fund,
                amount,
                [(bank, amount), (expense, -amount)],
                project=project,
                **purchase.fields(),
            )
        ]

    return record(session, ctx, request, build)[0]


def request_fields(purchase: Purchase) -> dict[str, Any]:
    return {key.replace(".", "__"): value for key, value in purchase.request().items()}
