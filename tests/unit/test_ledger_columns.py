"""The ledger's headers and the register importer agree: every ledger column is read or passed over."""

import pytest

from workflows.ledger_export import BUDGET_HEADER, COLUMNS
from workflows.register_file import ALIASES, LEDGER_ONLY, budget_column


def test_every_ledger_column_is_a_register_column_or_one_the_importer_passes_over() -> None:
    headers = [header for header, _ in COLUMNS]
    read = [h for h in headers if h in ALIASES]
    assert [ALIASES[h] for h in read] == [
        "town", "village", "planned_start", "planned_finish", "leader", "leader_phone", "leader_email",
        "specialist", "specialist_phone", "specialist_email",
    ]  # fmt: skip
    assert set(headers) - set(read) == LEDGER_ONLY
    assert budget_column(BUDGET_HEADER.format(code="upper")) == "budget_upper"


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("budget_upper", "budget_upper"),
        ("budget_UP", "budget_up"),
        ("预算_upper", "budget_upper"),
        ("预算_UP(元)", "budget_up"),
        ("预算_district（元）", "budget_district"),
        ("budget_district (元)", "budget_district"),
        ("乡镇(元)", "乡镇"),
        ("预算", "预算"),
    ],
)
def test_a_budget_header_in_chinese_or_with_its_unit_names_the_source(header: str, column: str) -> None:
    assert budget_column(header) == column
