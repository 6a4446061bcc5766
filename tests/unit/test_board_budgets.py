"""The project list's budget texts parsed once per distinct text, each row with a dict of its own."""

from workflows.board import _budget, _Budgets

LINES = "1000001:upper:3369200,1000002:district:324800"


def test_a_shared_budget_text_gives_each_row_its_own_equal_dict() -> None:
    budgets = _Budgets()
    first, total = budgets.of(LINES)
    second, again = budgets.of(LINES)
    assert first == second == {"upper": 3_369_200, "district": 324_800} and total == again == 3_694_000
    first["upper"] = 0  # one row's consumer changing its dict changes no other row
    assert budgets.of(LINES)[0] == second == {"upper": 3_369_200, "district": 324_800}


def test_past_the_kept_texts_every_text_is_still_parsed_right() -> None:
    budgets = _Budgets()
    texts = [f"1000001:upper:{n}" for n in range(_Budgets.KEPT + 10)] + [None, ""]
    assert [budgets.of(text) for text in texts] == [_budget(text) for text in texts]
    assert [budgets.of(text) for text in texts] == [_budget(text) for text in texts]  # kept or not
