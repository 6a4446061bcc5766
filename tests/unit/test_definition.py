"""Workflow definitions: the built-in one parses; every broken one is refused with file, line and field."""

import pytest

from models.yaml_source import SourceError
from workflows.definition import builtin_definition_files, parse_definition

# Line numbers of the compact definition below, for reading the expected messages:
#  4 initial   6-8 stages[0..2]   9-14 suspension (10 stage, 13 from, 14 roles)
#  16-21 transitions[0] (16 from, 17 to, 18 roles, 20 guard, 21 documents)
#  22-24 transitions[1] (22 from, 23 to, 24 roles)   26-29 milestones[0] (29 stage)
VALID = """\
key: mini
version: 1
title: Mini
initial: draft
stages:
  - {key: draft, label: 草稿, label_en: draft, phase: before, time_limit: {working_days: 5}}
  - {key: review, label: 审查, label_en: review, phase: during}
  - {key: done, label: 完成, label_en: done, phase: ended, terminal: true}
suspension:
  stage: paused
  label: 暂停
  label_en: paused
  from: [draft, review]
  roles: [office]
transitions:
  - from: draft
    to: review
    roles: [specialist, leader]
    guards:
      - guard: documents_recorded
        documents: [site_plan]
  - from: review
    to: done
    roles: [office]
milestones:
  - key: finish
    title: 完成
    title_en: finished
    stage: done
"""
STAGES = "(stages: draft, review, done)"
ROLES = "Input should be 'leader', 'specialist', 'inspector', 'office', 'auditor', 'leadership' or 'admin'"
EXTRA = "Extra inputs are not permitted"
ONE_LIMIT = "Value error, give exactly one of working_days or calendar_days"
LAST_TRANSITION = "  - from: review\n    to: done\n    roles: [office]\n"


def edit(*changes: tuple[str, str]) -> str:
    """VALID with each (old, new) applied; each old text must occur exactly once."""
    text = VALID
    for old, new in changes:
        assert text.count(old) == 1, f"{old!r} is not unique in the definition"
        text = text.replace(old, new)
    return text


def problems(text: str) -> list[str]:
    with pytest.raises(SourceError) as raised:
        parse_definition(text, "bad.yaml")
    error = raised.value
    assert str(error) == "\n".join(error.lines())
    assert len(error.problems) == len(error.lines())
    return error.lines()


def test_builtin_village_venue_definition_parses() -> None:
    [path] = [p for p in builtin_definition_files() if p.name == "village-venue.v1.yaml"]
    definition = parse_definition(path.read_text(encoding="utf-8"), path.name)
    assert (definition.key, definition.version, definition.initial) == ("village-venue", 1, "proposed")
    assert len(definition.stages) == 9
    assert [s.key for s in definition.stages if s.terminal] == ["closed", "rejected"]
    assert definition.suspension is not None and definition.suspension.stage == "suspended"
    assert definition.stage_keys()[-1] == "suspended"
    milestone = definition.milestone("start_construction")
    assert milestone is not None and milestone.stage == "in_construction"
    assert definition.stage_label("in_construction") == "在建 in construction"
    assert definition.stage_label("suspended") == "暂停 suspended"


def test_compact_definition_is_valid() -> None:
    definition = parse_definition(VALID, "mini.yaml")
    assert definition.stage_keys() == ["draft", "review", "done", "paused"]
    assert [(t.from_, t.to) for t in definition.transitions] == [("draft", "review"), ("review", "done")]


# One edit, one message: {test id: (old text, new text, the message line)}.
ONE_PROBLEM = {
    "invalid-yaml": (
        "initial: draft",
        "initial: [draft",
        "5: not valid YAML: expected ',' or ']', but got ':'",
    ),
    "tab-indentation": (
        "title: Mini\n",
        "title: Mini\n\tcolour: red\n",
        "4: not valid YAML: found character '\\t' that cannot start any token",
    ),
    "no-initial": ("initial: draft\n", "", "1: initial: Field required"),
    "transition-without-from": ("  - from: draft\n", "  -\n", "17: transitions[0].from: Field required"),
    "phase-not-in-enum": (
        "phase: during",
        "phase: soon",
        "7: stages[1].phase: Input should be 'before', 'during', 'after' or 'ended'",
    ),
    "version-not-integer": (
        "version: 1",
        "version: one",
        "2: version: Input should be a valid integer, unable to parse string as an integer",
    ),
    "stage-key-pattern": (
        "{key: review,",
        "{key: Review,",
        "7: stages[1].key: String should match pattern '^[a-z][a-z0-9_-]*$'",
    ),
    "unknown-top-level-field": ("title: Mini\n", "title: Mini\ncolour: red\n", f"4: colour: {EXTRA}"),
    "unknown-transition-field": (
        LAST_TRANSITION,
        LAST_TRANSITION + "    colour: red\n",
        f"25: transitions[1].colour: {EXTRA}",
    ),
    "time-limit-both": (
        "{working_days: 5}",
        "{working_days: 5, calendar_days: 7}",
        f"6: stages[0].time_limit: {ONE_LIMIT}",
    ),
    "time-limit-neither": ("{working_days: 5}", "{}", f"6: stages[0].time_limit: {ONE_LIMIT}"),
    "time-limit-zero": (
        "{working_days: 5}",
        "{working_days: 0}",
        "6: stages[0].time_limit.working_days: Input should be greater than 0",
    ),
    "unknown-transition-role": (
        "roles: [specialist, leader]",
        "roles: [specialist, mayor]",
        f"18: transitions[0].roles[1]: {ROLES}",
    ),
    "unknown-suspension-role": (
        "roles: [office]\ntransitions",
        "roles: [boss]\ntransitions",
        f"14: suspension.roles[0]: {ROLES}",
    ),
    "no-roles": (
        "roles: [specialist, leader]",
        "roles: []",
        "18: transitions[0].roles: List should have at least 1 item after validation, not 0",
    ),
    "initial-not-a-stage": (
        "initial: draft",
        "initial: drafted",
        f"4: initial: unknown stage 'drafted' {STAGES}",
    ),
    "transition-from-terminal": (
        LAST_TRANSITION,
        LAST_TRANSITION + "  - from: done\n    to: draft\n    roles: [office]\n",
        "25: transitions[2].from: 'done' is terminal: nothing leaves it",
    ),
    "duplicate-transition": (
        LAST_TRANSITION,
        LAST_TRANSITION + "  - from: review\n    to: done\n    roles: [leader]\n",
        "25: transitions[2]: duplicate transition review → done",
    ),
    "unknown-guard": (
        "guard: documents_recorded",
        "guard: documents_signed",
        "20: transitions[0].guards[0].guard: unknown guard 'documents_signed' "
        "(known: documents_recorded, inspection_passed, no_open_orders)",
    ),
    "guard-documents-empty": (
        "documents: [site_plan]",
        "documents: []",
        "21: transitions[0].guards[0].documents: List should have at least 1 item after validation, not 0",
    ),
    "guard-unknown-param": (
        "documents: [site_plan]",
        "documents: [site_plan]\n        colour: red",
        f"22: transitions[0].guards[0].colour: {EXTRA}",
    ),
    "suspension-stage-clashes": (
        "stage: paused",
        "stage: review",
        "10: suspension.stage: 'review' is already a stage; name it apart",
    ),
    "suspension-from-unknown": (
        "from: [draft, review]",
        "from: [draft, reviewed]",
        f"13: suspension.from[1]: unknown stage 'reviewed' {STAGES}",
    ),
    "suspension-from-terminal": (
        "from: [draft, review]",
        "from: [draft, done]",
        "13: suspension.from[1]: 'done' is terminal",
    ),
    "milestone-stage-unknown": (
        "    stage: done",
        "    stage: finished",
        f"29: milestones[0].stage: unknown stage 'finished' {STAGES}",
    ),
    "unreachable-stage": (
        "    to: review\n",
        "    to: done\n",
        "7: stages[1].key: stage 'review' cannot be reached from 'draft'",
    ),
}


@pytest.mark.parametrize(("old", "new", "expected"), ONE_PROBLEM.values(), ids=ONE_PROBLEM.keys())
def test_broken_definition_names_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert problems(edit((old, new))) == [f"bad.yaml:{expected}"]


def test_each_wrong_field_gets_its_own_line() -> None:
    assert problems(edit(("documents: [site_plan]", "kind: pre_review"))) == [
        "bad.yaml:20: transitions[0].guards[0].documents: Field required",
        f"bad.yaml:21: transitions[0].guards[0].kind: {EXTRA}",
    ]
    assert problems(edit(("  - from: draft\n", "  - from_: draft\n"))) == [
        "bad.yaml:16: transitions[0].from: Field required",
        f"bad.yaml:16: transitions[0].from_: {EXTRA}",
    ]


def test_transition_to_unknown_stage_also_reports_what_it_strands() -> None:
    assert problems(edit(("    to: done", "    to: donee"))) == [
        f"bad.yaml:23: transitions[1].to: unknown stage 'donee' {STAGES}",
        "bad.yaml:8: stages[2].key: stage 'done' cannot be reached from 'draft'",
    ]
    assert problems(edit(("  - from: review", "  - from: reviw"))) == [
        f"bad.yaml:22: transitions[1].from: unknown stage 'reviw' {STAGES}",
        "bad.yaml:8: stages[2].key: stage 'done' cannot be reached from 'draft'",
    ]


def test_transition_to_the_same_stage() -> None:
    assert problems(edit(("    to: done", "    to: review"))) == [
        "bad.yaml:23: transitions[1].to: a transition must change the stage",
        "bad.yaml:8: stages[2].key: stage 'done' cannot be reached from 'draft'",
    ]


def test_duplicate_stage_key_and_everything_it_breaks() -> None:
    assert problems(edit(("{key: review,", "{key: draft,"))) == [
        "bad.yaml:7: stages[1].key: duplicate stage 'draft'",
        "bad.yaml:13: suspension.from[1]: unknown stage 'review' (stages: draft, done)",
        "bad.yaml:17: transitions[0].to: unknown stage 'review' (stages: draft, done)",
        "bad.yaml:22: transitions[1].from: unknown stage 'review' (stages: draft, done)",
    ]


def test_several_structural_problems_are_reported_together() -> None:
    text = edit(
        ("phase: during", "phase: soon"),
        ("roles: [specialist, leader]", "roles: [specialist, mayor]"),
        (LAST_TRANSITION, LAST_TRANSITION + "    colour: red\n"),
    )
    assert problems(text) == [
        "bad.yaml:7: stages[1].phase: Input should be 'before', 'during', 'after' or 'ended'",
        f"bad.yaml:18: transitions[0].roles[1]: {ROLES}",
        "bad.yaml:25: transitions[1].colour: Extra inputs are not permitted",
    ]


def test_several_semantic_problems_are_reported_together() -> None:
    text = edit(
        ("initial: draft", "initial: nowhere"),
        ("from: [draft, review]", "from: [draft, done]"),
        ("guard: documents_recorded", "guard: documents_signed"),
        ("    stage: done", "    stage: finished"),
    )
    assert problems(text) == [
        f"bad.yaml:4: initial: unknown stage 'nowhere' {STAGES}",
        "bad.yaml:13: suspension.from[1]: 'done' is terminal",
        "bad.yaml:20: transitions[0].guards[0].guard: unknown guard 'documents_signed' "
        "(known: documents_recorded, inspection_passed, no_open_orders)",
        f"bad.yaml:29: milestones[0].stage: unknown stage 'finished' {STAGES}",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "bad.yaml:1: Input should be a valid dictionary or instance of WorkflowDefinition"),
        ("", "bad.yaml: key: Field required"),
    ],
    ids=["a-list", "empty-file"],
)
def test_a_document_that_is_not_a_definition(text: str, expected: str) -> None:
    assert problems(text)[0] == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [("title: Mini", "title: !custom Mini"), ("version: 1", "version: !!int one")],
    ids=["unknown-tag", "int-tag-on-text"],
)
def test_yaml_tags_that_cannot_be_constructed_are_source_errors(old: str, new: str) -> None:
    with pytest.raises(SourceError):
        parse_definition(edit((old, new)), "bad.yaml")


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(SourceError):
        parse_definition(edit((LAST_TRANSITION, LAST_TRANSITION + "    roles: [leader]\n")), "bad.yaml")
