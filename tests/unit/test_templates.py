"""Checklist templates: the built-ins load, and every mistake is named by file, line and field."""

from decimal import Decimal
from pathlib import Path
from textwrap import dedent

import pytest

from inspections.templates import (
    ChecklistTemplate,
    ItemKind,
    Responsible,
    Severity,
    builtin_template_files,
    builtin_templates,
    parse_template,
)
from models import InspectionKind, Role
from models.yaml_source import SourceError
from tests.checklists import builtin_template

HEADER = """\
key: test
version: 1
title: 测试检查表
title_en: test checklist
kind: in_progress
pass_threshold: 60
sections:
"""  # sections start on line 8


def problems(body: str, header: str = HEADER) -> list[str]:
    """The located problems that parsing ``header + body`` reports."""
    with pytest.raises(SourceError) as caught:
        parse_template(header + dedent(body), "t.yaml")
    return caught.value.lines()


@pytest.mark.parametrize("path", builtin_template_files(), ids=lambda path: path.name)
def test_builtin_template_parses(path: Path) -> None:
    template = parse_template(path.read_text(encoding="utf-8"), path.name)
    assert path.name == f"{template.key}.v{template.version}.yaml"
    assert sum(item.weight for _, item in template.iter_items()) == 100


def test_the_four_builtins_cover_the_four_kinds() -> None:
    kinds = {b.template.key: b.template.kind for b in builtin_templates()}
    assert kinds == {
        "pre-review": InspectionKind.PRE_REVIEW,
        "in-progress": InspectionKind.IN_PROGRESS,
        "acceptance": InspectionKind.ACCEPTANCE,
        "spot-check": InspectionKind.SPOT_CHECK,
    }


def test_acceptance_needs_two_inspectors_and_checks_what_the_issue_lists() -> None:
    acceptance = builtin_template("acceptance")
    assert acceptance.min_inspectors == 2
    texts = {item.text for _, item in acceptance.iter_items()}
    assert {"主体结构完工", "办公用品配置到位", "资金结算完毕", "档案资料归档"} <= texts
    assert any("五统一" in text for text in texts)


def test_in_progress_builtin_items_have_the_kinds_the_issue_asks_for() -> None:
    template = builtin_template("in-progress", 1)
    wall = template.item("wall_verticality")
    assert wall is not None and wall.kind == ItemKind.MEASUREMENT
    assert (wall.target, wall.tolerance, wall.unit) == (Decimal(0), Decimal(5), "mm")
    schedule = template.item("on_schedule")
    assert schedule is not None and schedule.kind == ItemKind.SCORE
    earmark = template.item("earmark")
    assert earmark is not None and earmark.critical and earmark.kind == ItemKind.PASS_FAIL
    assert earmark.severity == Severity.CRITICAL and earmark.responsible == Role.LEADER
    photos = template.item("site_photos")
    assert photos is not None and photos.kind == ItemKind.EVIDENCE and photos.min_files == 3


def test_every_builtin_failure_description_renders() -> None:
    for template in (b.template for b in builtin_templates()):
        for _, item in template.iter_items():
            text = item.failure_description(value=Decimal(7), evidence_count=1, notes="")
            assert text.startswith(item.text), (template.key, item.key, text)


def test_on_fail_defaults_severity_by_criticality_and_responsible_to_the_specialist() -> None:
    template = parse_template(
        HEADER
        + dedent("""\
          - key: safety
            title: 安全
            title_en: safety
            items:
              - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1, critical: true}
              - {key: b, text: 乙, text_en: b, kind: pass_fail, weight: 1}
              - {key: c, text: 丙, text_en: c, kind: pass_fail, weight: 1, on_fail: {severity: minor}}
        """),
        "t.yaml",
    )
    severities = {item.key: (item.severity, item.on_fail.responsible) for _, item in template.iter_items()}
    assert severities == {
        "a": (Severity.CRITICAL, Responsible.SPECIALIST),
        "b": (Severity.MAJOR, Responsible.SPECIALIST),
        "c": (Severity.MINOR, Responsible.SPECIALIST),
    }


def test_duplicate_item_key_names_both_places() -> None:
    assert problems("""\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1}
      - key: safety
        title: 安全
        title_en: safety
        items:
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1}
    """) == ["t.yaml:17: sections[1].items[0].key: duplicate item 'a' (first at sections[0].items[0])"]


def test_duplicate_section_key() -> None:
    assert problems("""\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1}
      - key: quality
        title: 质量二
        title_en: quality again
        items:
          - {key: b, text: 乙, text_en: b, kind: pass_fail, weight: 1}
    """) == ["t.yaml:13: sections[1].key: duplicate section 'quality'"]


def test_empty_section() -> None:
    assert problems("""\
      - key: documents
        title: 资料
        title_en: documents
        items: []
    """) == ["t.yaml:11: sections[0].items: section 'documents' has no items"]


def test_pass_at_above_max() -> None:
    assert problems("""\
      - key: progress
        title: 进度
        title_en: progress
        items:
          - key: on_schedule
            text: 进度与计划相符
            text_en: on schedule
            kind: score
            weight: 10
            max: 5
            pass_at: 6
    """) == ["t.yaml:18: sections[0].items[0].pass_at: pass_at 6 is above max 5"]


def test_critical_item_cannot_order_a_minor_fix() -> None:
    assert problems("""\
      - key: fund_use
        title: 资金使用
        title_en: fund use
        items:
          - key: earmark
            text: 专款专用
            text_en: earmark
            kind: pass_fail
            weight: 10
            critical: true
            on_fail:
              severity: minor
    """) == [
        "t.yaml:19: sections[0].items[0].on_fail.severity: a critical item fails the inspection, "
        "so its order cannot be minor (use critical or major)"
    ]


def test_kind_fields_missing_and_misplaced() -> None:
    assert problems("""\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - key: wall
            text: 墙体垂直度偏差
            text_en: wall verticality
            kind: measurement
            weight: 10
            target: 0
            max: 5
          - key: photos
            text: 照片
            text_en: photos
            kind: evidence
            weight: 1
    """) == [
        "t.yaml:18: sections[0].items[0].max: max applies only to score items",
        "t.yaml:12: sections[0].items[0].tolerance: a measurement item needs tolerance",
        "t.yaml:12: sections[0].items[0].unit: a measurement item needs unit",
        "t.yaml:19: sections[0].items[1].min_files: an evidence item needs min_files",
    ]


def test_description_placeholders_must_fit_the_item_kind() -> None:
    assert problems("""\
      - key: documents
        title: 资料
        title_en: documents
        items:
          - key: photos
            text: 照片
            text_en: photos
            kind: evidence
            weight: 1
            min_files: 2
            on_fail: {description: "{item}:实测{value}"}
          - key: log
            text: 日志
            text_en: log
            kind: pass_fail
            weight: 1
            on_fail: {description: "{item"}
    """) == [
        "t.yaml:18: sections[0].items[0].on_fail.description: unknown placeholder {value} for an evidence "
        "item (known: {evidence_count}, {item}, {min_files}, {notes})",
        "t.yaml:24: sections[0].items[1].on_fail.description: not a valid description template: "
        "expected '}' before end of string (write {{ and }} for literal braces)",
    ]


def test_acceptance_needs_two_inspectors() -> None:
    header = HEADER.replace("kind: in_progress", "kind: acceptance").replace(
        "pass_threshold: 60\n", "pass_threshold: 60\nmin_inspectors: 1\n"
    )
    assert problems(
        """\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1}
    """,
        header,
    ) == ["t.yaml:7: min_inspectors: an acceptance needs at least 2 inspectors"]


def test_re_inspection_has_no_template() -> None:
    header = HEADER.replace("kind: in_progress", "kind: re_inspection")
    assert problems(
        """\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1}
    """,
        header,
    ) == [
        "t.yaml:5: kind: re_inspection has no template of its own: "
        "a re-inspection reuses the one it follows up"
    ]


def test_shape_errors_are_located_and_all_reported_together() -> None:
    assert problems("""\
      - key: budget
        title: 预算
        title_en: budget
        items:
          - key: a
            text: 甲
            text_en: a
            kind: pass_fail
            weight: 0
            colour: red
    """) == [
        "t.yaml:8: sections[0].key: "
        "Input should be 'quality', 'progress', 'fund_use', 'safety' or 'documents'",
        "t.yaml:16: sections[0].items[0].weight: Input should be greater than 0",
        "t.yaml:17: sections[0].items[0].colour: Extra inputs are not permitted",
    ]


def test_threshold_out_of_range_and_missing_fields() -> None:
    header = HEADER.replace("pass_threshold: 60", "pass_threshold: 101").replace(
        "title_en: test checklist\n", ""
    )
    assert problems(
        """\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1}
    """,
        header,
    ) == [
        "t.yaml:1: title_en: Field required",
        "t.yaml:5: pass_threshold: Input should be less than or equal to 100",
    ]


def test_semantic_problems_are_all_reported_together() -> None:
    lines = problems("""\
      - key: quality
        title: 质量
        title_en: quality
        items:
          - {key: a, text: 甲, text_en: a, kind: score, weight: 1, max: 3, pass_at: 4}
          - {key: a, text: 甲, text_en: a, kind: pass_fail, weight: 1, critical: true,
             on_fail: {severity: minor}}
    """)
    assert [line.split(": ", 2)[1] for line in lines] == [
        "sections[0].items[0].pass_at",
        "sections[0].items[1].key",
        "sections[0].items[1].on_fail.severity",
    ]


def test_not_yaml() -> None:
    with pytest.raises(SourceError) as caught:
        parse_template("key: [unclosed\n", "t.yaml")
    assert caught.value.lines()[0].startswith("t.yaml:2: not valid YAML:")


def test_template_model_is_what_parse_returns() -> None:
    template = builtin_template("spot-check")
    assert isinstance(template, ChecklistTemplate)
    assert template.item("nothing") is None
    assert template.item_keys()[0] == "site_active"
