"""The fund audit rules as data: the rules file, its versions by effective date, and the findings.

A rules file (YAML, ``funds/audit_rules.yaml`` shipped; an office's own at DUCHA_AUDIT_RULES) lists
versions of named rules: the rule or regulation each encodes, the date it is in force from, its
severity and its parameters. ``RuleBook.in_force(day)`` is, of each rule, the version with the
latest ``effective`` on or before ``day``. The office's file replaces, rule by rule, the versions
of the rules it names. Errors name the file, the line and the field (exit 2).

Pure: no database, no clock. The queries that find what each rule looks for are in
``funds/audit_facts.py``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.money import parse_yuan
from models.yaml_source import SourceError, SourceProblem, YamlDocument, field_path, read_source_text

DEFAULT_RULES = Path(__file__).parent / "audit_rules.yaml"
# The checklist a fund audit is recorded against: one item per rule.
CHECKLIST = Path(__file__).parent / "fund_audit_checklist.yaml"
Severity = Literal["critical", "major", "minor"]


def _yuan(value: object) -> int:
    try:
        return parse_yuan(value)
    except ValueError as exc:
        raise ValueError(f"yuan with at most two decimals: {exc}") from None


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(_Params):
    pass


class OverspendParams(_Params):
    tolerance_yuan: str = "0.00"

    @field_validator("tolerance_yuan")
    @classmethod
    def _money(cls, value: str) -> str:
        _yuan(value)
        return value

    @property
    def tolerance_fen(self) -> int:
        return _yuan(self.tolerance_yuan)


class DuplicateParams(_Params):
    fields: list[Literal["voucher", "invoice"]] = Field(default=["voucher", "invoice"], min_length=1)


class SplitParams(_Params):
    window_days: int = Field(default=2, ge=1, le=366)
    threshold_yuan: str = "10000.00"
    min_payments: int = Field(default=2, ge=2, le=1000)

    @field_validator("threshold_yuan")
    @classmethod
    def _money(cls, value: str) -> str:
        if _yuan(value) <= 0:
            raise ValueError("more than 0")
        return value

    @property
    def threshold_fen(self) -> int:
        return _yuan(self.threshold_yuan)


class IdleParams(_Params):
    days: int = Field(default=90, ge=1, le=3660)
    min_yuan: str = "0.01"

    @field_validator("min_yuan")
    @classmethod
    def _money(cls, value: str) -> str:
        _yuan(value)
        return value

    @property
    def min_fen(self) -> int:
        return max(1, _yuan(self.min_yuan))


class LatePayableParams(_Params):
    days: int = Field(default=30, ge=1, le=366)
    # Late interest a day, in ten-thousandths of what is unpaid (万分之五: 5).
    daily_rate_per_10000: int = Field(default=5, ge=0, le=10_000)


# Every rule the code knows, with the shape of its parameters.
PARAMS: Mapping[str, type[_Params]] = {
    "outside_earmark": NoParams,
    "overspend": OverspendParams,
    "allocation_mismatch": NoParams,
    "disbursed_before_pre_review": NoParams,
    "spending_after_closure": NoParams,
    "duplicate_document": DuplicateParams,
    "split_payment": SplitParams,
    "idle_funds": IdleParams,
    "late_payable": LatePayableParams,
}
RULE_KEYS = tuple(PARAMS)


class _RuleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    regulation: str = Field(min_length=1, max_length=2000)
    effective: date
    severity: Severity
    params: dict[str, Any] = Field(default_factory=dict)


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[_RuleEntry] = Field(min_length=1)


@dataclass(frozen=True)
class RuleVersion:
    """One version of a rule: what it encodes, from when, how severe, with which parameters."""

    key: str
    title: str
    regulation: str
    effective: date
    severity: Severity
    params: Any  # the rule's own parameter model (PARAMS[key])
    source: str

    def plain(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "regulation": self.regulation,
            "effective": self.effective.isoformat(),
            "severity": self.severity,
            "params": self.params.model_dump(),
            "source": self.source,
        }


@dataclass(frozen=True)
class RuleBook:
    """Every version of every rule, by key, oldest first."""

    versions: Mapping[str, Sequence[RuleVersion]]
    sources: tuple[str, ...] = ()

    def in_force(self, day: date) -> list[RuleVersion]:
        """Of each rule, the version in force on ``day`` (rules not yet in force are left out)."""
        found = []
        for key in RULE_KEYS:
            current = [v for v in self.versions.get(key, ()) if v.effective <= day]
            if current:
                found.append(current[-1])
        return found

    def overridden_by(self, other: "RuleBook") -> "RuleBook":
        """This book with each rule ``other`` names replaced by ``other``'s versions of it."""
        merged = dict(self.versions)
        merged.update(other.versions)
        return RuleBook(merged, (*self.sources, *other.sources))


def parse_rules(text: str, source: str) -> RuleBook:
    """Read a rules file; every problem is named by file, line and field."""
    document = YamlDocument(text, source)
    parsed = document.validate(_RulesFile)
    problems: list[SourceProblem] = []
    versions: dict[str, list[RuleVersion]] = {}
    for index, entry in enumerate(parsed.rules):
        where = ("rules", index)
        model = PARAMS.get(entry.key)
        if model is None:
            problems.append(
                document.problem(
                    (*where, "key"), f"unknown rule {entry.key!r} (rules: {', '.join(RULE_KEYS)})"
                )
            )
            continue
        try:
            params = model.model_validate(entry.params)
        except ValidationError as exc:
            for error in exc.errors():
                loc = (*where, "params", *(p for p in error["loc"] if isinstance(p, str | int)))
                problems.append(SourceProblem(document.line_of(loc), field_path(loc), error["msg"]))
            continue
        same = versions.setdefault(entry.key, [])
        if any(v.effective == entry.effective for v in same):
            problems.append(
                document.problem(
                    (*where, "effective"),
                    f"rule {entry.key} has two versions in force from {entry.effective.isoformat()}",
                )
            )
            continue
        same.append(
            RuleVersion(
                entry.key, entry.title, entry.regulation, entry.effective, entry.severity, params, source
            )
        )
    if problems:
        raise SourceError(source, problems)
    for same in versions.values():
        same.sort(key=lambda v: v.effective)
    return RuleBook(versions, (source,))


def load_rules(override: Path | None = None) -> RuleBook:
    """The shipped rules, with an office's file (DUCHA_AUDIT_RULES) over them when it is set."""
    shipped = parse_rules(read_source_text(DEFAULT_RULES), "funds/audit_rules.yaml")
    if override is None:
        return shipped
    return shipped.overridden_by(parse_rules(read_source_text(override), str(override)))


@dataclass(frozen=True)
class Finding:
    """What a rule found: about which project (None: the whole programme) and fund, the money at
    issue, the ledger entries that show it (their numbers in the log), and what it means.

    ``subject`` names the finding among the rule's findings in the programme, stably: an audit run
    again finds the same subject and records nothing new.
    """

    rule: str
    subject: str
    project_id: int | None
    project: str | None
    fund: str | None
    amount_fen: int
    evidence: tuple[int, ...]
    description: str
    detail: dict[str, Any] = field(default_factory=dict)


def late_interest_fen(fen_days: int, daily_rate_per_10000: int) -> int:
    """Late interest on ``fen_days`` (each fen unpaid for each day late, summed), rounded once to
    the fen, half up: integer arithmetic only (0.05 % a day is 5 per 10,000)."""
    return (fen_days * daily_rate_per_10000 * 2 + 10_000) // 20_000
