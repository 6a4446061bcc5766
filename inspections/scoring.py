"""Score an inspection against its checklist template: pure functions, no I/O.

The score and the outcome are computed, never typed in:

- Each item earns ``weight × fraction`` points. The fraction is 1 or 0 for a pass/fail item (its
  ``passed``), for a measurement (1 when ``|value − target| ≤ tolerance``) and for an evidence item
  (1 when ``evidence_count ≥ min_files``); for a score item it is ``value / max``, and the item fails
  when ``value < pass_at`` (a failed score item still keeps its partial points).
- A waived item leaves both the points earned and the points possible.
- ``score = 100 × earned / possible``, 100 when every item is waived, rounded half up to one decimal
  place (a ``Decimal`` such as ``87.5``; ``score_tenths`` is the same as an int, 875).
- ``outcome`` is ``fail`` when a critical item failed or the rounded score is below the template's
  ``pass_threshold``; else ``pass_with_rectification`` when any item failed; else ``pass``. The rounded
  score is compared so that the outcome always agrees with the score shown.
- Every failed item is a finding, with the severity and responsible role of the rectification order
  (整改通知) it creates; passed and waived items never are.

Results are checked first: an unknown item key, an item given twice, a non-waived item without a
result, a ``passed`` on anything but a pass/fail item, a value on a pass/fail or evidence item, a value
of the wrong type (score: int; measurement: Decimal or int, never float), a score outside 0..max or a
negative evidence count raise ``ResultError`` naming every item at fault. Too few evidence files is not
an error: the evidence item fails. A waived item needs nothing else; its other fields are ignored.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from inspections.templates import ChecklistItem, ChecklistTemplate, ItemKind, SectionKey, Severity
from models import Outcome, Role, Verdict
from models.errors import BadInput


@dataclass(frozen=True)
class ItemResult:
    """What the inspector recorded for one item; fill only the field the item's kind uses."""

    item_key: str
    passed: bool | None = None  # pass_fail
    value: int | Decimal | None = None  # score (int) or measurement (Decimal or int)
    evidence_count: int = 0  # evidence (files may be attached to any item)
    waived: bool = False
    notes: str = ""


@dataclass(frozen=True)
class ItemVerdict:
    """How one item came out and the points it earned (0 when waived)."""

    item_key: str
    section: SectionKey
    verdict: Verdict
    weight: int
    earned: Fraction


@dataclass(frozen=True)
class Finding:
    """A failed item and the rectification order it creates."""

    item_key: str
    section: SectionKey
    critical: bool
    severity: Severity
    responsible: Role
    description: str
    notes: str


@dataclass(frozen=True)
class ScoreCard:
    """The computed result of one inspection."""

    template_key: str
    template_version: int
    score: Decimal
    outcome: Outcome
    items: tuple[ItemVerdict, ...]
    findings: tuple[Finding, ...]
    earned: Fraction
    possible: int

    @property
    def score_tenths(self) -> int:
        return int(self.score * 10)

    @property
    def critical_failed(self) -> bool:
        return any(finding.critical for finding in self.findings)

    def verdict(self, item_key: str) -> Verdict:
        return next(item.verdict for item in self.items if item.item_key == item_key)


@dataclass(frozen=True)
class ResultProblem:
    item_key: str
    message: str


class ResultError(BadInput):
    """The results do not fit the template; carries every problem, each naming its item."""

    located = True

    def __init__(self, problems: Iterable[ResultProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"item {p.item_key!r}: {p.message}" for p in self.problems]


def score_inspection(template: ChecklistTemplate, results: Iterable[ItemResult]) -> ScoreCard:
    """Check the results against the template, then score them."""
    by_key = _checked(template, list(results))
    items: list[ItemVerdict] = []
    findings: list[Finding] = []
    for section, item in template.iter_items():
        result = by_key[item.key]
        if result.waived:
            items.append(ItemVerdict(item.key, section.key, Verdict.WAIVED, item.weight, Fraction(0)))
            continue
        fraction, passed = _fraction(item, result)
        verdict = Verdict.PASSED if passed else Verdict.FAILED
        items.append(ItemVerdict(item.key, section.key, verdict, item.weight, item.weight * fraction))
        if not passed:
            findings.append(_finding(item, section.key, result))
    earned = sum((item.earned for item in items), Fraction(0))
    possible = sum(item.weight for item in items if item.verdict != Verdict.WAIVED)
    tenths = 1000 if possible == 0 else _round_half_up(1000 * earned / possible)
    score = Decimal(tenths).scaleb(-1)
    if any(finding.critical for finding in findings) or score < template.pass_threshold:
        outcome = Outcome.FAIL
    elif findings:
        outcome = Outcome.PASS_WITH_RECTIFICATION
    else:
        outcome = Outcome.PASS
    return ScoreCard(
        template_key=template.key,
        template_version=template.version,
        score=score,
        outcome=outcome,
        items=tuple(items),
        findings=tuple(findings),
        earned=earned,
        possible=possible,
    )


def _round_half_up(value: Fraction) -> int:
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def _fraction(item: ChecklistItem, result: ItemResult) -> tuple[Fraction, bool]:
    """The share of the item's weight earned, and whether the item passed."""
    if item.kind == ItemKind.SCORE:
        assert isinstance(result.value, int) and item.max is not None and item.pass_at is not None
        return Fraction(result.value, item.max), result.value >= item.pass_at
    if item.kind == ItemKind.MEASUREMENT:
        assert result.value is not None and item.target is not None and item.tolerance is not None
        passed = abs(Decimal(result.value) - item.target) <= item.tolerance
    elif item.kind == ItemKind.EVIDENCE:
        assert item.min_files is not None
        passed = result.evidence_count >= item.min_files
    else:
        passed = bool(result.passed)
    return Fraction(int(passed)), passed


def _finding(item: ChecklistItem, section: SectionKey, result: ItemResult) -> Finding:
    description = item.failure_description(
        value=result.value, evidence_count=result.evidence_count, notes=result.notes
    )
    return Finding(
        item_key=item.key,
        section=section,
        critical=item.critical,
        severity=item.severity,
        responsible=item.responsible,
        description=description,
        notes=result.notes,
    )


def _checked(template: ChecklistTemplate, results: list[ItemResult]) -> dict[str, ItemResult]:
    """Index the results by item key; raise ResultError if any does not fit the template."""
    problems: list[ResultProblem] = []
    by_key: dict[str, ItemResult] = {}
    for result in results:
        item = template.item(result.item_key)
        if item is None:
            problems.append(
                ResultProblem(result.item_key, f"not in template {template.key} v{template.version}")
            )
            continue
        if result.item_key in by_key:
            problems.append(ResultProblem(result.item_key, "given more than once"))
            continue
        by_key[result.item_key] = result
        problems.extend(ResultProblem(item.key, message) for message in _result_problems(item, result))
    for key in template.item_keys():
        if key not in by_key:
            problems.append(ResultProblem(key, "no result (record one, or mark the item waived)"))
    if problems:
        raise ResultError(problems)
    return by_key


def _result_problems(item: ChecklistItem, result: ItemResult) -> list[str]:
    if result.waived:
        return []
    noun = item.kind.noun
    problems: list[str] = []
    if type(result.evidence_count) is not int or result.evidence_count < 0:
        problems.append(f"evidence_count must be an int ≥ 0, got {result.evidence_count!r}")
    if item.kind == ItemKind.PASS_FAIL:
        if not isinstance(result.passed, bool):
            problems.append(f"a pass_fail item needs passed (True or False), got {result.passed!r}")
    elif result.passed is not None:
        problems.append(f"passed is only for pass_fail items; {noun}'s verdict is computed")
    value = result.value
    if item.kind in (ItemKind.PASS_FAIL, ItemKind.EVIDENCE):
        if value is not None:
            problems.append(f"{noun} takes no value, got {value!r}")
    elif item.kind == ItemKind.SCORE:
        assert item.max is not None
        if type(value) is not int:
            problems.append(f"a score item needs an int value, got {_describe(value)}")
        elif not 0 <= value <= item.max:
            problems.append(f"score {value} is outside 0..{item.max}")
    elif type(value) not in (Decimal, int):
        problems.append(f"a measurement item needs a Decimal value, got {_describe(value)}")
    elif isinstance(value, Decimal) and not value.is_finite():
        problems.append(f"a measurement must be a finite number, got {value}")
    return problems


def _describe(value: object) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"
