"""An OC4IDS project built from facts: its completion once accepted, its budget by year when the
allocations do not match the budget, and money written exactly."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from models import FundingSource, Programme
from models.deadlines import DeadlineKind, DeadlineStatus
from workflows.exact_json import write_json
from workflows.oc4ids import project_document, yuan
from workflows.oc4ids_facts import DeadlineFact, Movement, ProgrammeFacts, ProjectFacts

NOW = datetime(2027, 8, 1, 1, 0, tzinfo=UTC)


def facts(
    stage: str, movements: list[Movement], budget: dict[str, int]
) -> tuple[ProgrammeFacts, ProjectFacts]:
    project = ProjectFacts(
        7, "P007", "和平村村级组织活动场所", 3, "和平村", "城关镇", stage, None, "village-venue", 2,
        date(2026, 12, 1), date(2027, 6, 30), date(2026, 12, 2), date(2027, 5, 20),
    )  # fmt: skip
    project.budget_fen = budget
    project.movements = movements
    project.spent_fen = 3_600_001
    programme = Programme(
        id=1, name="第一批", district_id=1, definition_key="village-venue", earmark="", created_at=NOW
    )
    funds = [
        FundingSource(id=1, programme_id=1, code="upper", name="上级资金", amount_fen=1, position=0),
        FundingSource(id=2, programme_id=1, code="district", name="区级资金", amount_fen=1, position=1),
    ]
    return ProgrammeFacts(programme, "示范区", "区委督查室", None, funds, [project]), project


def moved(
    seq: int, when: datetime, *, cash: int = 0, allocated: int = 0, vendor: int | None = None
) -> Movement:
    kind = "allocate" if allocated else ("spend" if vendor else "disburse")
    return Movement(
        seq, kind, "upper", when, vendor, f"v{vendor}" if vendor else None, "construction", cash, allocated
    )


def test_an_accepted_project_has_its_completion_and_the_office_reviews_without_an_audit_bureau() -> None:
    programme, project = facts("accepted", [], {"upper": 3_000_000, "district": 694_000})
    project.accepted_at = datetime(2027, 6, 2, 2, 0, tzinfo=UTC)
    project.deadlines = [
        DeadlineFact(5, DeadlineKind.MILESTONE, "全部完工", datetime(2027, 6, 30, tzinfo=UTC),
                     DeadlineStatus.MET, datetime(2027, 5, 20, 2, tzinfo=UTC)),
        DeadlineFact(6, DeadlineKind.STAGE_LIMIT, "验收", datetime(2027, 6, 1, tzinfo=UTC),
                     DeadlineStatus.WAIVED, None),
    ]  # fmt: skip
    document = project_document(programme, project, "oc4ids-abc123-", NOW, {})
    assert document["status"] == "completion"
    assert document["completion"] == {
        "endDate": "2027-06-02T10:00:00+08:00",
        "finalValue": {"amount": Decimal("36000.01"), "currency": "CNY"},
    }
    assert document["implementationPeriod"] == {
        "startDate": "2026-12-02T00:00:00+08:00",
        "endDate": "2027-05-20T23:59:59+08:00",
    }
    assert document["parties"][0]["roles"] == ["publicAuthority", "reviewBody"]
    assert document["milestones"] == [
        {"id": "5", "title": "全部完工", "type": "delivery", "dueDate": "2027-06-30T08:00:00+08:00",
         "status": "met", "dateMet": "2027-05-20T10:00:00+08:00"},
    ]  # fmt: skip
    _, project.stage = None, "in_construction"
    assert "completion" not in project_document(programme, project, "oc4ids-abc123-", NOW, {})


def test_the_budget_by_year_adds_up_to_the_budget_however_the_allocations_came() -> None:
    late = datetime(2027, 1, 5, tzinfo=UTC)
    early = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)  # 23:59 on the 31st in Shanghai: still 2026
    for movements, expected in [
        ([], {"2027": 3_694_000}),  # nothing allocated: the year it is to finish
        ([moved(1, early, allocated=1_000_000)], {"2026": 1_000_000, "2027": 2_694_000}),
        ([moved(1, early, allocated=3_000_000), moved(2, late, allocated=2_000_000)],
         {"2026": 3_000_000, "2027": 694_000}),
        ([moved(1, datetime(2026, 12, 31, 16, 0, tzinfo=UTC), allocated=3_694_000)], {"2027": 3_694_000}),
    ]:  # fmt: skip
        programme, project = facts("approved", movements, {"upper": 3_000_000, "district": 694_000})
        budget = project_document(programme, project, "oc4ids-abc123-", NOW, {})["budget"]
        years = next(b for b in budget["budgetBreakdowns"] if b["id"] == "fiscalYear")["budgetBreakdown"]
        assert {y["id"]: int(y["amount"]["amount"] * 100) for y in years} == expected
        assert budget["amount"]["amount"] == Decimal("36940.00")


def test_money_is_written_as_the_exact_number_of_yuan() -> None:
    for fen, text in [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (3_694_000, "36940.00"),
        (2**53 + 1, "90071992547409.93"),
    ]:
        out = io.StringIO()
        write_json({"amount": yuan(fen), "name": '村"委"'}, out)
        assert out.getvalue() == '{"amount":' + text + ',"name":"村\\"委\\""}'
