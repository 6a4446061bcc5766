"""Properties of the ledger under any sequence of operations (hypothesis, stateful, both backends), and
twenty payments at once that never overspend, never fork the chain and never deadlock."""

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlmodel import Session

from ducha.db import make_engine, writer
from funds.note import Signer
from funds.operations import OverLimit
from funds.verify import verify_ledger
from models import Person
from models.errors import BadInput, Refused
from tests import builders
from workflows.built_ins import load_builtins
from workflows.fund_actions import (
    FundsSetup,
    Operation,
    allocate_funds,
    disburse_funds,
    record_receipt,
    reverse_entry,
)
from workflows.payment_actions import (
    PurchaseInput,
    commit_payment,
    pay_entry,
    record_payable,
    record_refund,
    spend_funds,
    void_commitment,
)

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
KEY = Signer.generate("test-office")
SETUP = FundsSetup((KEY,), None)
_programmes = itertools.count(1)
_ops = itertools.count(1)
FUNDS = ("upper", "district")
AMOUNTS = st.integers(min_value=1, max_value=4_000_000)


def _refusal(exc: Exception) -> bool:
    return isinstance(exc, OverLimit | Refused)


class Ledger(RuleBasedStateMachine):
    """A programme with two projects; each rule one operation, the model the balances it must leave."""

    url = ""

    def __init__(self) -> None:
        super().__init__()
        engine = make_engine(self.url)
        self.engine = writer(engine)
        self.session = Session(self.engine, expire_on_commit=False)
        with self.session.begin():
            load_builtins(session=self.session, now=T0)
            self.programme = builders.programme(self.session, f"性质测试{next(_programmes)}")
            self.projects = [builders.project(self.session, self.programme, v).code for v in ("甲村", "乙村")]
            self.office = builders.office_member(self.session)
            self.leader = builders.office_member(self.session, "审批人")
        # Plain values: a rollback expires the rows, and reading one again would begin a transaction.
        self.pid, self.leader_id = self.programme.id, self.leader.id
        self.now = T0
        self.balance: dict[str, int] = {}
        self.commitments: list[int] = []
        self.payables: list[int] = []
        self.entries: list[int] = []

    def teardown(self) -> None:
        self.session.close()
        self.engine.dispose()

    def _do(self, action: Any, postings: list[tuple[str, int]], **arguments: Any) -> Any:
        self.now += timedelta(minutes=1)
        op = Operation(self.office, f"prop-{next(_ops)}", str(self.pid))
        try:
            with self.session.begin():
                made = action(session=self.session, now=self.now, op=op, setup=SETUP, **arguments)
        except (OverLimit, Refused) as exc:
            return exc
        for account, amount in postings:
            self.balance[account] = self.balance.get(account, 0) + amount
        self.entries.append(made.seq)
        return made

    def held(self, account: str) -> int:
        return self.balance.get(account, 0)

    @rule(fund=st.sampled_from(FUNDS), amount=AMOUNTS)
    def receive(self, fund: str, amount: int) -> None:
        budget = {"upper": 6_738_400, "district": 649_600}[fund]
        over = -self.held(f"{fund}/source") + amount > budget
        got = self._do(
            record_receipt,
            [(f"{fund}/pool", amount), (f"{fund}/source", -amount)],
            fund=fund,
            amount_fen=amount,
        )
        assert _refusal(got) == over

    @rule(project=st.integers(0, 1), fund=st.sampled_from(FUNDS), amount=AMOUNTS)
    def allocate(self, project: int, fund: str, amount: int) -> None:
        code = self.projects[project]
        enough = self.held(f"{fund}/pool") >= amount
        got = self._do(
            allocate_funds,
            [(f"{fund}/allocation/{code}", amount), (f"{fund}/pool", -amount)],
            project=code,
            fund=fund,
            amount_fen=amount,
        )
        assert _refusal(got) != enough

    @rule(project=st.integers(0, 1), fund=st.sampled_from(FUNDS), amount=AMOUNTS)
    def disburse(self, project: int, fund: str, amount: int) -> None:
        code = self.projects[project]
        enough = self.held(f"{fund}/allocation/{code}") >= amount
        got = self._do(
            disburse_funds,
            [(f"{fund}/bank/{code}", amount), (f"{fund}/allocation/{code}", -amount)],
            project=code,
            fund=fund,
            amount_fen=amount,
        )
        assert _refusal(got) != enough

    def _room(self, fund: str, code: str) -> int:
        owed = sum(v for k, v in self.balance.items() if k.startswith(f"{fund}/payable/{code}/"))
        return self.held(f"{fund}/allocation/{code}") + self.held(f"{fund}/bank/{code}") + owed

    @rule(
        project=st.integers(0, 1),
        fund=st.sampled_from(FUNDS),
        amount=AMOUNTS,
        category=st.sampled_from(["construction", "furnishing", "other"]),
    )
    def spend(self, project: int, fund: str, amount: int, category: str) -> None:
        code = self.projects[project]
        enough = self.held(f"{fund}/bank/{code}") >= amount and self._room(fund, code) >= amount
        got = self._do(
            spend_funds,
            [(f"{fund}/expense/{code}/{category}", amount), (f"{fund}/bank/{code}", -amount)],
            evidence=None,
            project=code,
            fund=fund,
            amount_fen=amount,
            purchase=PurchaseInput(category=category, voucher="V"),
        )
        assert _refusal(got) != enough

    @rule(project=st.integers(0, 1), fund=st.sampled_from(FUNDS), amount=AMOUNTS)
    def commit(self, project: int, fund: str, amount: int) -> None:
        code = self.projects[project]
        enough = self.held(f"{fund}/bank/{code}") >= amount and self._room(fund, code) >= amount
        got = self._do(
            commit_payment,
            [(f"{fund}/reserved/{code}", amount), (f"{fund}/bank/{code}", -amount)],
            evidence=None,
            project=code,
            fund=fund,
            amount_fen=amount,
            purchase=PurchaseInput(category="construction", vendor="供应商"),
            approved_by=str(self.leader_id),
        )
        assert _refusal(got) != enough
        if not _refusal(got):
            self.commitments.append((got.seq, fund, code, amount))  # type: ignore[arg-type]

    @precondition(lambda self: bool(self.commitments))
    @rule(data=st.data(), pay=st.booleans())
    def settle(self, data: st.DataObject, pay: bool) -> None:
        seq, fund, code, amount = data.draw(st.sampled_from(self.commitments))  # type: ignore[misc]
        self.commitments.remove((seq, fund, code, amount))  # type: ignore[arg-type]
        if pay:
            postings = [(f"{fund}/expense/{code}/construction", amount), (f"{fund}/reserved/{code}", -amount)]
            got = self._do(pay_entry, postings, evidence=None, seq=seq)
        else:
            postings = [(f"{fund}/bank/{code}", amount), (f"{fund}/reserved/{code}", -amount)]
            got = self._do(void_commitment, postings, seq=seq, reason="取消")
        assert not _refusal(got)
        again = self._do(void_commitment, [], seq=seq, reason="又取消")
        assert _refusal(again)

    @rule(project=st.integers(0, 1), fund=st.sampled_from(FUNDS), amount=AMOUNTS)
    def payable(self, project: int, fund: str, amount: int) -> None:
        code = self.projects[project]
        enough = self._room(fund, code) >= amount
        vendor_account = None
        got = self._do(
            record_payable,
            [],
            evidence=None,
            project=code,
            fund=fund,
            amount_fen=amount,
            purchase=PurchaseInput(category="construction", vendor="工程队", small_firm=True),
        )
        assert _refusal(got) != enough
        if not _refusal(got):
            vendor_account = next(
                line["account"] for line in got.document["lines"] if "/payable/" in line["account"]
            )
            self.balance[f"{fund}/expense/{code}/construction"] = (
                self.held(f"{fund}/expense/{code}/construction") + amount
            )
            self.balance[vendor_account] = self.held(vendor_account) - amount
            self.payables.append((got.seq, fund, code, amount, vendor_account))  # type: ignore[arg-type]

    @precondition(lambda self: bool(self.payables))
    @rule(data=st.data())
    def pay_payable(self, data: st.DataObject) -> None:
        seq, fund, code, amount, account = data.draw(st.sampled_from(self.payables))  # type: ignore[misc]
        owed = -self.held(account)
        enough = self.held(f"{fund}/bank/{code}") >= owed
        got = self._do(pay_entry, [(account, owed), (f"{fund}/bank/{code}", -owed)], evidence=None, seq=seq)
        assert _refusal(got) != enough or owed == 0
        if not _refusal(got):
            self.payables.remove((seq, fund, code, amount, account))  # type: ignore[arg-type]

    @rule(project=st.integers(0, 1), fund=st.sampled_from(FUNDS), amount=AMOUNTS)
    def refund(self, project: int, fund: str, amount: int) -> None:
        code = self.projects[project]
        enough = self.held(f"{fund}/expense/{code}/construction") >= amount
        got = self._do(
            record_refund,
            [(f"{fund}/bank/{code}", amount), (f"{fund}/expense/{code}/construction", -amount)],
            evidence=None,
            project=code,
            fund=fund,
            amount_fen=amount,
            purchase=PurchaseInput(category="construction"),
        )
        assert _refusal(got) != enough

    @precondition(lambda self: bool(self.entries))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        seq = data.draw(st.sampled_from(self.entries))
        body = json.loads(
            self.session.execute(
                text(f"SELECT body FROM journal_entry WHERE programme_id = {self.pid} AND seq = {seq}")
            ).scalar_one()
        )
        self.session.rollback()
        postings = [(line["account"], -line["amount"]) for line in body["lines"]]
        got = self._do(reverse_entry, postings, seq=seq, reason="更正")
        if not _refusal(got):
            assert body["kind"] not in ("commit", "void", "pay", "reverse")
            self.payables = [p for p in self.payables if p[0] != seq]

    @invariant()
    def balances_are_the_sum_of_their_lines_and_every_entry_is_balanced(self) -> None:
        rows = self.session.execute(
            text(
                "SELECT a.code, SUM(l.amount_fen), MAX(l.entry_seq) FROM journal_line l "
                f"JOIN ledger_account a ON a.id = l.account_id WHERE l.programme_id = {self.pid} "
                "GROUP BY a.code"
            )
        ).all()
        found = {code: int(total) for code, total, _ in rows}
        assert {k: v for k, v in found.items() if v} == {k: v for k, v in self.balance.items() if v}
        last = self.session.execute(
            text(
                "SELECT a.code, l.balance_fen FROM journal_line l JOIN ledger_account a "
                f"ON a.id = l.account_id WHERE l.programme_id = {self.pid} AND l.entry_seq = "
                "(SELECT MAX(m.entry_seq) FROM journal_line m WHERE m.account_id = l.account_id)"
            )
        ).all()
        assert {code: int(b) for code, b in last} == found
        unbalanced = self.session.execute(
            text(
                f"SELECT entry_seq FROM journal_line WHERE programme_id = {self.pid} "
                "GROUP BY entry_seq HAVING SUM(amount_fen) <> 0"
            )
        ).all()
        assert unbalanced == []
        for (body,) in self.session.execute(
            text(f"SELECT body FROM journal_entry WHERE programme_id = {self.pid}")
        ):
            json.loads(body, parse_float=lambda _: pytest.fail("a float in an entry"))
        for account, value in found.items():
            if (
                "/pool" in account
                or "/allocation/" in account
                or "/bank/" in account
                or "/reserved/" in account
            ):
                assert value >= 0, account  # nothing was overridden: no account of these kinds went below 0
        self.session.rollback()

    def check_verifies(self) -> None:
        with Session(self.engine) as session:
            report = verify_ledger(session=session, verifiers=[KEY.verifier()])
        assert report.ok, [p.line() for p in report.all_problems()]


def test_any_sequence_of_operations_keeps_the_ledger_true(database_url: str) -> None:
    Ledger.url = database_url
    machines: list[Ledger] = []

    class Recorded(Ledger):
        def __init__(self) -> None:
            super().__init__()
            machines.append(self)

    run_state_machine_as_test(
        Recorded,
        settings=settings(
            max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    machines[-1].check_verifies()  # every programme's log in the database, checkpoints included


def test_money_never_passes_through_float(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(writer(engine)) as session:
        prog = builders.programme(session, "浮点测试")
        office = builders.office_member(session)
        for amount in (1.5, 100.0, True):
            with pytest.raises(BadInput, match="money is integer fen"):
                record_receipt(
                    session=session,
                    now=T0,
                    op=Operation(office, f"f-{amount}", str(prog.id)),
                    setup=SETUP,
                    fund="upper",
                    amount_fen=amount,
                )  # type: ignore[arg-type]
    engine.dispose()


def test_twenty_payments_at_once_never_overspend_fork_or_deadlock(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(writer(engine)) as session:
        load_builtins(session=session, now=T0)
        prog = builders.programme(session, "并发测试")
        code = builders.project(session, prog, "并发村").code
        office = builders.office_member(session)
        for n, (action, extra) in enumerate(
            ((record_receipt, {}), (allocate_funds, {"project": code}), (disburse_funds, {"project": code}))
        ):
            action(
                session=session,
                now=T0,
                op=Operation(office, f"setup-{n}", str(prog.id)),
                setup=SETUP,
                fund="upper",
                amount_fen=1_000_000,
                **extra,
            )
        session.commit()
        office_id, programme_id = office.id, prog.id
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def pay(n: int) -> None:
        own = make_engine(database_url)
        try:
            with Session(writer(own)) as session:
                barrier.wait(timeout=60)
                who = session.get(Person, office_id)
                try:
                    spend_funds(
                        session=session,
                        now=T0 + timedelta(seconds=n),
                        setup=SETUP,
                        evidence=None,
                        op=Operation(who, f"pay-{n}", str(programme_id)),
                        project=code,
                        fund="upper",
                        amount_fen=100_000,
                        purchase=PurchaseInput(category="construction", voucher=f"V{n}"),
                    )
                    session.commit()
                    outcomes.append("paid")
                except OverLimit as exc:
                    session.rollback()
                    outcomes.append("refused" if "more than its bank account" in str(exc) else str(exc))
        except Exception as exc:  # noqa: BLE001  (a deadlock or a unique violation would land here)
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            own.dispose()

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes) == ["paid"] * 10 + ["refused"] * 10, outcomes
    with engine.connect() as connection:
        seqs = (
            connection.execute(
                text(f"SELECT seq FROM journal_entry WHERE programme_id = {programme_id} ORDER BY seq")
            )
            .scalars()
            .all()
        )
        bank = connection.execute(
            text(
                "SELECT SUM(l.amount_fen) FROM journal_line l JOIN ledger_account a ON a.id = l.account_id "
                f"WHERE a.code = 'upper/bank/{code}' AND a.programme_id = {programme_id}"
            )
        ).scalar_one()
    assert seqs == list(range(13)) and bank == 0
    with Session(engine) as session:
        report = verify_ledger(session=session, verifiers=[KEY.verifier()])
    assert report.ok, [p.line() for p in report.all_problems()]
    engine.dispose()
