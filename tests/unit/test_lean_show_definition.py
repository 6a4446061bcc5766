"""``ducha show`` without pydantic reads a stored definition's transitions as validating them gives,
or leaves the definition to the full path (workflows.lean_show)."""

import pytest

from models.raw import NotAhead
from workflows import lean_show
from workflows.definition import builtin_definition_files, guard_params, parse_definition
from workflows.guard_rules import RULES
from workflows.guards import GUARDS


@pytest.mark.parametrize("path", builtin_definition_files(), ids=lambda path: path.name)
def test_the_transitions_read_plainly_are_the_validated_ones(path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    definition = parse_definition(text, "x.yaml", stored=True)
    transitions, suspension = lean_show._moves(text)
    assert [(t.from_, t.to, t.roles, t.reason_required, t.guards) for t in transitions] == [
        (t.from_, t.to, t.roles, t.reason_required, tuple((g.guard, dict(guard_params(g))) for g in t.guards))
        for t in definition.transitions
    ]
    assert definition.suspension is not None and suspension is not None
    assert (suspension.stage, suspension.from_, suspension.roles) == (
        definition.suspension.stage,
        definition.suspension.from_,
        definition.suspension.roles,
    )
    assert any(t.guards for t in transitions)


def test_every_guard_has_a_rule_and_plain_parameters() -> None:
    samples = {
        "documents_recorded": {"documents": ["site_plan", "design"]},
        "inspection_passed": {"kind": "acceptance"},
        "no_open_orders": {},
    }
    assert set(RULES) == set(GUARDS) == set(samples)
    for name, params in samples.items():
        validated = dict(GUARDS[name].params.model_validate(params))
        assert lean_show.plain_params(name, params) == validated
        assert [type(value) for value in lean_show.plain_params(name, params).values()] == [
            type(value) for value in validated.values()
        ]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("documents_recorded", {"documents": []}),
        ("documents_recorded", {"documents": "site_plan"}),
        ("documents_recorded", {"documents": ["site_plan", 7]}),
        ("documents_recorded", {"documents": ["site_plan"], "also": 1}),
        ("inspection_passed", {"kind": "no such"}),
        ("inspection_passed", {"kind": None}),
        ("no_open_orders", {"kind": "acceptance"}),
        ("funds_reconciled", {}),
    ],
)
def test_parameters_not_plainly_valid_are_left_to_the_full_path(name: str, params: dict[str, object]) -> None:
    with pytest.raises(NotAhead):
        lean_show.plain_params(name, params)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("reason_required: true", "reason_required: 1"),
        ("reason_required: true", "reason_required: yes_please"),
        ("roles: [office]", "roles: [office, 7]"),
        ("roles: [office]", "roles: [nobody]"),
        ("kind: acceptance", "kind: [acceptance]"),
        ("    guards:\n", "    guards: null\n    unused:\n"),
    ],
)
def test_a_transition_not_plainly_what_validation_gives_is_left_to_the_full_path(
    before: str, after: str
) -> None:
    text = builtin_definition_files()[-1].read_text(encoding="utf-8")
    assert before in text
    with pytest.raises(NotAhead):
        lean_show._moves(text.replace(before, after, 1))
