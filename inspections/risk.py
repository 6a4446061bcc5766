"""Weigh projects by risk and draw them for unannounced visits (四不两直 spot checks).

The draw is pure: the caller supplies the seed (drawn from os.urandom when the user gave none) and
records the time, seed, weights and result before the visit. Anyone holding that record can run
`draw` again and get the same projects.
"""

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal


@dataclass(frozen=True)
class RiskFacts:
    """What is known about one project when the draw is made."""

    project_id: int
    open_orders: int
    overdue_orders: int
    last_score: Decimal | None  # 0-100; None = never inspected
    days_since_last_visit: int | None  # None = never visited
    days_behind_plan: int  # 0 when on plan

    def __post_init__(self) -> None:
        for name in ("open_orders", "overdue_orders", "days_behind_plan"):
            if getattr(self, name) < 0:
                raise ValueError(f"project {self.project_id}: {name} cannot be negative")
        if self.days_since_last_visit is not None and self.days_since_last_visit < 0:
            raise ValueError(f"project {self.project_id}: days_since_last_visit cannot be negative")
        if self.last_score is not None and not Decimal(0) <= self.last_score <= Decimal(100):
            raise ValueError(f"project {self.project_id}: last_score {self.last_score} is outside 0-100")


@dataclass(frozen=True)
class RiskPolicy:
    """How much each risk adds to a project's weight; every project starts at `base`.

    With the defaults: +1.0 per open order and +2.0 per overdue order (the two are counted as given,
    so an overdue order that is also counted as open adds 3.0); +(100 - last score)/20, so a score
    of 60 adds 2.0 and a never-inspected project adds a fixed 2.0; +1.0 per 30 days since the last
    visit, at most 3.0, which a never-visited project gets; +1.0 per 7 days behind plan, at most 3.0.
    """

    base: float = 1.0
    per_open_order: float = 1.0
    per_overdue_order: float = 2.0
    score_points_per_unit: float = 20.0
    never_inspected: float = 2.0
    visit_days_per_unit: float = 30.0
    visit_cap: float = 3.0
    never_visited: float = 3.0
    behind_days_per_unit: float = 7.0
    behind_cap: float = 3.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"risk policy {field.name} must be a finite number >= 0, got {value}")
        for name in ("base", "score_points_per_unit", "visit_days_per_unit", "behind_days_per_unit"):
            if getattr(self, name) == 0:
                raise ValueError(f"risk policy {name} must be above 0")


@dataclass(frozen=True)
class Weighted:
    """A candidate project's draw weight and, in plain words, what made it up."""

    project_id: int
    weight: float
    reasons: list[str]


def risk_weight(facts: RiskFacts, policy: RiskPolicy = RiskPolicy()) -> Weighted:
    """Weigh one project by its risk; each reason names a term and what it added."""
    terms: list[tuple[str, float]] = [("base", policy.base)]
    if facts.open_orders:
        terms.append((_count(facts.open_orders, "open order"), facts.open_orders * policy.per_open_order))
    if facts.overdue_orders:
        terms.append(
            (_count(facts.overdue_orders, "overdue order"), facts.overdue_orders * policy.per_overdue_order)
        )
    if facts.last_score is None:
        terms.append(("never inspected", policy.never_inspected))
    elif facts.last_score < 100:
        terms.append(
            (f"last score {facts.last_score}", float(100 - facts.last_score) / policy.score_points_per_unit)
        )
    if facts.days_since_last_visit is None:
        terms.append(("never visited", policy.never_visited))
    elif facts.days_since_last_visit > 0:
        terms.append(
            _capped(
                _count(facts.days_since_last_visit, "day") + " since last visit",
                facts.days_since_last_visit / policy.visit_days_per_unit,
                policy.visit_cap,
            )
        )
    if facts.days_behind_plan > 0:
        terms.append(
            _capped(
                _count(facts.days_behind_plan, "day") + " behind plan",
                facts.days_behind_plan / policy.behind_days_per_unit,
                policy.behind_cap,
            )
        )
    weight = math.fsum(value for _, value in terms)
    return Weighted(
        project_id=facts.project_id,
        weight=weight,
        reasons=[f"{label} +{_points(value)}" for label, value in terms if value > 0],
    )


def draw(weights: Sequence[Weighted], count: int, seed: int) -> list[int]:
    """Draw `count` distinct project ids, each pick favouring heavier weights; same seed, same draw.

    Efraimidis-Spirakis sampling without replacement: candidates are put in project_id order, each
    takes one number u from random.Random(seed) in that order and gets the key u ** (1 / weight), and
    the `count` highest keys win, returned highest first. This equals drawing one project at a time
    with chance weight / (total weight left). A count above the number of candidates draws them all.
    Python's Random seeds from abs(seed), so a seed and its negation give the same draw.
    """
    if count < 1:
        raise ValueError(f"a draw needs a count of at least 1, got {count}")
    candidates = sorted(weights, key=lambda candidate: candidate.project_id)
    seen: set[int] = set()
    for candidate in candidates:
        if candidate.project_id in seen:
            raise ValueError(f"project {candidate.project_id} appears more than once among the candidates")
        seen.add(candidate.project_id)
        if not (candidate.weight > 0 and math.isfinite(candidate.weight)):
            raise ValueError(
                f"project {candidate.project_id} has weight {candidate.weight}; weights must be positive"
            )
    rng = random.Random(seed)
    keyed = [(rng.random() ** (1.0 / candidate.weight), candidate.project_id) for candidate in candidates]
    # Ties (only possible when keys underflow to 0.0) go to the lower project_id, so the order is total.
    keyed.sort(key=lambda pair: (-pair[0], pair[1]))
    return [project_id for _, project_id in keyed[:count]]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _capped(label: str, value: float, cap: float) -> tuple[str, float]:
    return (f"{label} (capped)", cap) if value > cap else (label, value)


def _points(value: float) -> str:
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text
