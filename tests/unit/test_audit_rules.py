"""The audit rules file: versions by effective date, an office's file over the shipped one, errors
that name the file, line and field, and late interest in integer fen."""

from datetime import date
from pathlib import Path

import pytest

from funds.audit_rules import RULE_KEYS, late_interest_fen, load_rules, parse_rules
from models.yaml_source import SourceError

OFFICE = """\
rules:
  - key: late_payable
    title: 拖欠中小企业款项
    regulation: 本办规定：15 日内支付
    effective: 2027-01-01
    severity: major
    params: {days: 15, daily_rate_per_10000: 5}
"""


def test_each_rule_runs_in_the_version_in_force_that_day() -> None:
    rules = load_rules()
    assert [v.key for v in rules.in_force(date(2026, 12, 10))] == list(RULE_KEYS)
    late = {
        day: next(v for v in rules.in_force(day) if v.key == "late_payable")
        for day in (date(2025, 5, 31), date(2025, 6, 1))
    }
    assert late[date(2025, 5, 31)].effective == date(2020, 9, 1)
    assert late[date(2025, 6, 1)].effective == date(2025, 6, 1)
    assert "2025年6月1日" in late[date(2025, 6, 1)].regulation
    # Before its first version, a rule is not run at all.
    assert "late_payable" not in [v.key for v in rules.in_force(date(2020, 8, 31))]


def test_an_office_file_replaces_the_rules_it_names(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(OFFICE, encoding="utf-8")
    rules = load_rules(path)
    # Its only version starts in 2027: before then the office's rule is not in force at all.
    assert "late_payable" not in [v.key for v in rules.in_force(date(2026, 12, 10))]
    late = next(v for v in rules.in_force(date(2027, 1, 1)) if v.key == "late_payable")
    assert (late.params.days, late.severity, late.source) == (15, "major", str(path))
    assert (
        next(v for v in rules.in_force(date(2027, 1, 1)) if v.key == "split_payment").params.threshold_fen
        == 1_000_000
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            OFFICE.replace("days: 15", "days: fifteen"),
            "office.yaml:7: rules[0].params.days: Input should be a valid integer",
        ),
        (
            OFFICE.replace("severity: major", "severity: grave"),
            "office.yaml:6: rules[0].severity: Input should be",
        ),
        (
            OFFICE.replace("effective: 2027-01-01", "effective: 2027-02-30"),
            "office.yaml:5: rules[0].effective: not a date",
        ),
        (
            OFFICE.replace("key: late_payable", "key: late"),
            "office.yaml:2: rules[0].key: unknown rule 'late'",
        ),
        (OFFICE + "    extra: 1\n", "office.yaml:8: rules[0].extra: Extra inputs are not permitted"),
        (
            OFFICE + OFFICE[7:],
            "office.yaml:11: rules[1].effective: rule late_payable has two versions in force from 2027-01-01",
        ),
        ("rules:\n  - &a {key: idle_funds}\n  - *a\n", "anchors and aliases (& and *) are not allowed here"),
    ],
)
def test_a_bad_rules_file_names_the_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_rules(text, "office.yaml")
    assert expected in str(caught.value)


def test_late_interest_is_integer_fen_rounded_once_half_up() -> None:
    assert late_interest_fen(480_000 * 3, 5) == 720  # 4,800.00 × 0.05 % × 3 days = 7.20
    assert late_interest_fen(1_000, 5) == 1  # 0.5 fen: half up
    assert late_interest_fen(999, 5) == 0  # 0.4995 fen
    assert late_interest_fen(3_000, 5) == 2  # 1.5 fen: half up
    assert late_interest_fen(0, 5) == 0
