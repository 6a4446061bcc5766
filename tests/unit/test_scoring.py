"""Scoring: examples on the built-in templates, result validation, and properties of the rules."""

from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspections.scoring import ItemResult, ResultError, ScoreCard, score_inspection
from inspections.templates import ChecklistItem, ChecklistTemplate, ItemKind, Severity
from models import Outcome, Role, Verdict
from tests.checklists import builtin_template

SECTIONS = ["quality", "progress", "fund_use", "safety", "documents"]


# Builders -------------------------------------------------------------------------------------------


def template(*items: dict[str, Any], threshold: int = 60) -> ChecklistTemplate:
    """A template whose items are spread over sections in turn."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for index, item in enumerate(items):
        sections.setdefault(SECTIONS[index % len(SECTIONS)], []).append(item)
    return ChecklistTemplate.model_validate(
        {
            "key": "test",
            "version": 1,
            "title": "测试",
            "title_en": "test",
            "kind": "in_progress",
            "pass_threshold": threshold,
            "sections": [
                {"key": key, "title": key, "title_en": key, "items": section_items}
                for key, section_items in sections.items()
            ],
        }
    )


def pass_fail(key: str, weight: int = 1, *, critical: bool = False) -> dict[str, Any]:
    return {
        "key": key,
        "text": key,
        "text_en": key,
        "kind": "pass_fail",
        "weight": weight,
        "critical": critical,
    }


def full_marks(item: ChecklistItem) -> ItemResult:
    """The result that earns every point of ``item``."""
    if item.kind == ItemKind.SCORE:
        return ItemResult(item.key, value=item.max)
    if item.kind == ItemKind.MEASUREMENT:
        return ItemResult(item.key, value=item.target)
    if item.kind == ItemKind.EVIDENCE:
        return ItemResult(item.key, evidence_count=item.min_files or 0)
    return ItemResult(item.key, passed=True)


def all_pass(tpl: ChecklistTemplate, **changed: ItemResult) -> list[ItemResult]:
    """Full marks everywhere except the results given by item key."""
    return [changed.get(item.key, full_marks(item)) for _, item in tpl.iter_items()]


IN_PROGRESS = builtin_template("in-progress")


# Examples on the built-in in-progress check (weights sum to 100) ------------------------------------


def test_all_full_marks_is_a_clean_pass() -> None:
    card = score_inspection(IN_PROGRESS, all_pass(IN_PROGRESS))
    assert (card.score, card.score_tenths, card.outcome, card.findings) == (
        Decimal("100.0"),
        1000,
        Outcome.PASS,
        (),
    )
    assert {item.verdict for item in card.items} == {Verdict.PASSED}


def test_wall_out_of_tolerance_is_a_finding_for_the_specialist() -> None:
    card = score_inspection(
        IN_PROGRESS,
        all_pass(IN_PROGRESS, wall_verticality=ItemResult("wall_verticality", value=Decimal("7.5"))),
    )
    assert card.score == Decimal("90.0")
    assert card.outcome == Outcome.PASS_WITH_RECTIFICATION
    [finding] = card.findings
    assert (finding.item_key, finding.severity, finding.responsible, finding.critical) == (
        "wall_verticality",
        Severity.MAJOR,
        Role.SPECIALIST,
        False,
    )
    assert finding.description == "墙体垂直度偏差:实测7.5mm,超出允许偏差5mm"


def test_measurement_within_tolerance_either_side_passes() -> None:
    for value in (Decimal(5), Decimal("-5.0"), 0, Decimal("4.99")):
        card = score_inspection(
            IN_PROGRESS, all_pass(IN_PROGRESS, wall_verticality=ItemResult("wall_verticality", value=value))
        )
        assert card.verdict("wall_verticality") == Verdict.PASSED, value
    card = score_inspection(
        IN_PROGRESS,
        all_pass(IN_PROGRESS, wall_verticality=ItemResult("wall_verticality", value=Decimal("-5.01"))),
    )
    assert card.verdict("wall_verticality") == Verdict.FAILED


def test_score_item_below_pass_at_fails_but_keeps_its_partial_points() -> None:
    card = score_inspection(
        IN_PROGRESS, all_pass(IN_PROGRESS, on_schedule=ItemResult("on_schedule", value=2))
    )
    # on_schedule weighs 15 and earns 2/5 of it: 100 − 9 = 91.
    assert card.score == Decimal("91.0")
    assert card.outcome == Outcome.PASS_WITH_RECTIFICATION
    [finding] = card.findings
    assert (finding.responsible, finding.description) == (Role.LEADER, "进度与计划相符:得分2/5,未达到3分")


def test_score_item_at_pass_at_passes() -> None:
    card = score_inspection(
        IN_PROGRESS, all_pass(IN_PROGRESS, on_schedule=ItemResult("on_schedule", value=3))
    )
    assert (card.score, card.outcome) == (Decimal("94.0"), Outcome.PASS)


def test_failed_critical_item_fails_whatever_the_score() -> None:
    card = score_inspection(
        IN_PROGRESS, all_pass(IN_PROGRESS, earmark=ItemResult("earmark", passed=False, notes="挪用于修路"))
    )
    assert (card.score, card.outcome, card.critical_failed) == (Decimal("80.0"), Outcome.FAIL, True)
    [finding] = card.findings
    assert (finding.severity, finding.responsible, finding.notes) == (
        Severity.CRITICAL,
        Role.LEADER,
        "挪用于修路",
    )


def test_score_below_threshold_fails_without_a_critical_item() -> None:
    failed = {
        key: ItemResult(key, passed=False)
        for key in ("materials_inspected", "payment_vouchers", "safety_protection")
    }
    card = score_inspection(
        IN_PROGRESS, all_pass(IN_PROGRESS, **failed, site_photos=ItemResult("site_photos", evidence_count=2))
    )
    assert card.score == Decimal("65.0")  # below 70
    assert (card.outcome, card.critical_failed) == (Outcome.FAIL, False)
    assert [f.item_key for f in card.findings] == [
        "materials_inspected",
        "payment_vouchers",
        "safety_protection",
        "site_photos",
    ]
    assert card.findings[-1].description == "施工现场照片:佐证材料2份,少于要求的3份"
    assert card.findings[-1].severity == Severity.MINOR


def test_waived_items_leave_the_score_and_never_become_findings() -> None:
    card = score_inspection(
        IN_PROGRESS,
        all_pass(
            IN_PROGRESS,
            earmark=ItemResult("earmark", waived=True),
            materials_inspected=ItemResult("materials_inspected", passed=False),
        ),
    )
    assert (card.earned, card.possible) == (Fraction(70), 80)
    assert card.score == Decimal("87.5")
    assert card.verdict("earmark") == Verdict.WAIVED
    assert [f.item_key for f in card.findings] == ["materials_inspected"]


def test_everything_waived_scores_100() -> None:
    card = score_inspection(IN_PROGRESS, [ItemResult(key, waived=True) for key in IN_PROGRESS.item_keys()])
    assert (card.score, card.outcome, card.possible) == (Decimal("100.0"), Outcome.PASS, 0)


def test_score_rounds_half_up_to_one_decimal() -> None:
    tpl = template(pass_fail("a", 3), pass_fail("b", 13))
    card = score_inspection(tpl, [ItemResult("a", passed=False), ItemResult("b", passed=True)])
    assert card.score == Decimal("81.3")  # 81.25 rounds up, not to even
    tpl = template(pass_fail("a", 1), pass_fail("b", 2))
    card = score_inspection(tpl, [ItemResult("a", passed=False), ItemResult("b", passed=True)])
    assert card.score == Decimal("66.7")


def test_threshold_compares_the_rounded_score() -> None:
    tpl = template(pass_fail("a", 1), pass_fail("b", 2), threshold=67)
    card = score_inspection(tpl, [ItemResult("a", passed=False), ItemResult("b", passed=True)])
    assert (card.score, card.outcome) == (Decimal("66.7"), Outcome.FAIL)
    tpl = template(pass_fail("a", 1), pass_fail("b", 2), threshold=66)
    card = score_inspection(tpl, [ItemResult("a", passed=False), ItemResult("b", passed=True)])
    assert card.outcome == Outcome.PASS_WITH_RECTIFICATION


# Result validation -----------------------------------------------------------------------------------


def rejected(results: list[ItemResult]) -> list[str]:
    with pytest.raises(ResultError) as caught:
        score_inspection(IN_PROGRESS, results)
    return str(caught.value).splitlines()


def test_unknown_item_key() -> None:
    assert rejected([*all_pass(IN_PROGRESS), ItemResult("roof", passed=True)]) == [
        "item 'roof': not in template in-progress v1"
    ]


def test_item_given_twice() -> None:
    assert rejected([*all_pass(IN_PROGRESS), ItemResult("earmark", passed=False)]) == [
        "item 'earmark': given more than once"
    ]


def test_missing_results_are_all_named() -> None:
    results = [r for r in all_pass(IN_PROGRESS) if r.item_key not in ("earmark", "site_log")]
    assert rejected(results) == [
        "item 'site_log': no result (record one, or mark the item waived)",
        "item 'earmark': no result (record one, or mark the item waived)",
    ]


def test_score_outside_its_range() -> None:
    assert rejected(all_pass(IN_PROGRESS, on_schedule=ItemResult("on_schedule", value=6))) == [
        "item 'on_schedule': score 6 is outside 0..5"
    ]
    assert rejected(all_pass(IN_PROGRESS, on_schedule=ItemResult("on_schedule", value=-1))) == [
        "item 'on_schedule': score -1 is outside 0..5"
    ]


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (
            ItemResult("on_schedule", value=Decimal(3)),
            "a score item needs an int value, got Decimal Decimal('3')",
        ),
        (ItemResult("on_schedule", value=True), "a score item needs an int value, got bool True"),
        (ItemResult("on_schedule"), "a score item needs an int value, got nothing"),
        (
            ItemResult("on_schedule", value=3, passed=True),
            "passed is only for pass_fail items; a score item's verdict is computed",
        ),
        (
            ItemResult("wall_verticality", value=4.5),  # type: ignore[arg-type]
            "a measurement item needs a Decimal value, got float 4.5",
        ),
        (
            ItemResult("wall_verticality", value=Decimal("NaN")),
            "a measurement must be a finite number, got NaN",
        ),
        (ItemResult("earmark"), "a pass_fail item needs passed (True or False), got None"),
        (ItemResult("earmark", passed=True, value=1), "a pass_fail item takes no value, got 1"),
        (ItemResult("site_photos", evidence_count=-1), "evidence_count must be an int ≥ 0, got -1"),
        (ItemResult("site_photos", evidence_count=3, value=3), "an evidence item takes no value, got 3"),
    ],
)
def test_wrong_value_for_the_item_kind(result: ItemResult, message: str) -> None:
    assert rejected(all_pass(IN_PROGRESS, **{result.item_key: result})) == [
        f"item {result.item_key!r}: {message}"
    ]


def test_missing_evidence_is_a_failed_item_not_an_error() -> None:
    card = score_inspection(IN_PROGRESS, all_pass(IN_PROGRESS, site_photos=ItemResult("site_photos")))
    assert card.verdict("site_photos") == Verdict.FAILED


def test_a_waived_item_needs_nothing_else() -> None:
    card = score_inspection(
        IN_PROGRESS, all_pass(IN_PROGRESS, on_schedule=ItemResult("on_schedule", waived=True, value=99))
    )
    assert card.verdict("on_schedule") == Verdict.WAIVED


# Properties --------------------------------------------------------------------------------------------


@st.composite
def items(draw: st.DrawFn, prefix: str = "i") -> list[dict[str, Any]]:
    out = []
    for index in range(draw(st.integers(1, 8))):
        item: dict[str, Any] = {
            "key": f"{prefix}{index}",
            "text": f"第{index}项",
            "text_en": f"item {index}",
            "weight": draw(st.integers(1, 20)),
            "critical": draw(st.booleans()),
            "kind": draw(st.sampled_from(list(ItemKind))),
        }
        if item["kind"] == ItemKind.SCORE:
            item["max"] = draw(st.integers(1, 10))
            item["pass_at"] = draw(st.integers(0, item["max"]))
        elif item["kind"] == ItemKind.MEASUREMENT:
            item["target"] = draw(st.decimals(-50, 50, places=1))
            item["tolerance"] = draw(st.decimals(0, 10, places=1))
            item["unit"] = "mm"
        elif item["kind"] == ItemKind.EVIDENCE:
            item["min_files"] = draw(st.integers(1, 5))
        out.append(item)
    return out


@st.composite
def result_for(draw: st.DrawFn, item: ChecklistItem) -> ItemResult:
    if draw(st.integers(0, 5)) == 0:
        return ItemResult(item.key, waived=True)
    if item.kind == ItemKind.SCORE:
        assert item.max is not None
        return ItemResult(item.key, value=draw(st.integers(0, item.max)))
    if item.kind == ItemKind.MEASUREMENT:
        assert item.target is not None and item.tolerance is not None
        spread = 2 * item.tolerance + 1
        return ItemResult(
            item.key, value=draw(st.decimals(item.target - spread, item.target + spread, places=2))
        )
    if item.kind == ItemKind.EVIDENCE:
        return ItemResult(item.key, evidence_count=draw(st.integers(0, 6)))
    return ItemResult(item.key, passed=draw(st.booleans()))


@st.composite
def inspections(draw: st.DrawFn) -> tuple[ChecklistTemplate, list[ItemResult]]:
    """A generated or built-in template with valid results for every item."""
    tpl = draw(
        st.one_of(
            st.builds(lambda its, t: template(*its, threshold=t), items(), st.integers(0, 100)),
            st.sampled_from(
                [builtin_template(k) for k in ("pre-review", "in-progress", "acceptance", "spot-check")]
            ),
        )
    )
    return tpl, [draw(result_for(item)) for _, item in tpl.iter_items()]


@given(inspections())
def test_score_is_within_0_and_100_with_one_decimal(case: tuple[ChecklistTemplate, list[ItemResult]]) -> None:
    card = score_inspection(*case)
    assert Decimal(0) <= card.score <= Decimal(100)
    assert card.score.as_tuple().exponent == -1


@given(inspections())
def test_outcome_follows_the_threshold_and_the_findings(
    case: tuple[ChecklistTemplate, list[ItemResult]],
) -> None:
    tpl, results = case
    card = score_inspection(tpl, results)
    if card.score < tpl.pass_threshold or card.critical_failed:
        assert card.outcome == Outcome.FAIL
    elif card.findings:
        assert card.outcome == Outcome.PASS_WITH_RECTIFICATION
    else:
        assert card.outcome == Outcome.PASS
    if card.outcome != Outcome.FAIL:
        assert card.score >= tpl.pass_threshold


@given(inspections())
def test_findings_are_exactly_the_failed_items(case: tuple[ChecklistTemplate, list[ItemResult]]) -> None:
    tpl, results = case
    card = score_inspection(tpl, results)
    waived = {r.item_key for r in results if r.waived}
    failed = {item.item_key for item in card.items if item.verdict == Verdict.FAILED}
    assert {f.item_key for f in card.findings} == failed
    assert not failed & waived
    assert {item.item_key for item in card.items if item.verdict == Verdict.WAIVED} == waived


@given(inspections(), st.integers(1, 20))
def test_a_failed_critical_item_always_fails(
    case: tuple[ChecklistTemplate, list[ItemResult]], weight: int
) -> None:
    tpl, results = case
    with_critical = template(
        *[item.model_dump(exclude_none=True) for _, item in tpl.iter_items()],
        pass_fail("critical_one", weight, critical=True),
        threshold=0,
    )
    card = score_inspection(with_critical, [*results, ItemResult("critical_one", passed=False)])
    assert card.outcome == Outcome.FAIL
    assert any(f.item_key == "critical_one" and f.severity == Severity.CRITICAL for f in card.findings)


@given(inspections(), st.integers(1, 20), st.integers(1, 50))
def test_raising_the_weight_of_a_failed_item_never_raises_the_score(
    case: tuple[ChecklistTemplate, list[ItemResult]], weight: int, more: int
) -> None:
    tpl, results = case
    base = [item.model_dump(exclude_none=True) for _, item in tpl.iter_items()]

    def card(w: int) -> ScoreCard:
        return score_inspection(
            template(*base, pass_fail("failed_one", w), threshold=tpl.pass_threshold),
            [*results, ItemResult("failed_one", passed=False)],
        )

    light, heavy = card(weight), card(weight + more)
    assert heavy.earned / heavy.possible <= light.earned / light.possible
    assert heavy.score <= light.score


@given(inspections(), st.data())
def test_full_marks_score_100_whatever_is_waived(
    case: tuple[ChecklistTemplate, list[ItemResult]], data: st.DataObject
) -> None:
    tpl, _ = case
    results = [
        replace(full_marks(item), waived=data.draw(st.booleans(), label=item.key))
        for _, item in tpl.iter_items()
    ]
    card = score_inspection(tpl, results)
    assert (card.score, card.outcome, card.findings) == (Decimal("100.0"), Outcome.PASS, ())
