"""Yuan at the edges, fen inside: parse_yuan and format_yuan."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.money import format_yuan, parse_yuan

# The budget columns are BIGINT: the largest amount the database can hold, in fen.
MAX_FEN = 2**63 - 1


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("36,940.00", 3_694_000),
        ("1,684,600", 168_460_000),
        ("0.1", 10),
        ("0.05", 5),
        ("0", 0),
        (" 3248 ", 324_800),
        ("3248.50", 324_850),
        ("1.230", 123),  # a trailing zero is not a third decimal
        ("1e2", 10_000),  # spreadsheets write large numbers in scientific notation
        ("+5", 500),
        (33692.0, 3_369_200),  # a spreadsheet number cell
        (3248.5, 324_850),
        (0.1, 10),
        (12, 1_200),
        (Decimal("1.5"), 150),
    ],
)
def test_parse_yuan_examples(value: object, fen: int) -> None:
    assert parse_yuan(value) == fen


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "is negative: -1"),
        ("-3,248.00", "is negative: -3248.00"),
        (-0.5, "is negative: -0.5"),
        ("1.234", "has more than two decimals: 1.234"),
        ("0.001", "has more than two decimals: 0.001"),
        (0.1 + 0.2, "has more than two decimals: 0.30000000000000004"),
        ("abc", "is not a number: 'abc'"),
        ("12元", "is not a number: '12元'"),
        ("", "is empty"),
        ("   ", "is empty"),
        (None, "is empty"),
        ("NaN", "is not a number: 'NaN'"),
        ("inf", "is not a number: 'inf'"),
        (float("nan"), "is not a number: nan"),
        (float("inf"), "is not a number: inf"),
        (True, "is not a number"),
    ],
)
def test_parse_yuan_refusals_say_why(value: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_yuan(value)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (3_694_000, "36,940.00"),
        (0, "0.00"),
        (5, "0.05"),
        (150, "1.50"),
        (123_456_789, "1,234,567.89"),
        (184_700_000, "1,847,000.00"),
        (-150, "-1.50"),
    ],
)
def test_format_yuan_examples(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_formatted_amounts_parse_back_to_the_same_fen(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


@given(
    st.integers(min_value=0, max_value=10**15),
    st.sampled_from([0, 1, 2]),
    st.sampled_from(["decimal", "text", "text with separators"]),
)
def test_amounts_with_at_most_two_places_give_exact_fen(fen: int, places: int, form: str) -> None:
    fen -= fen % 10 ** (2 - places)  # so the amount has at most `places` decimals
    amount = Decimal(fen).scaleb(-2).quantize(Decimal(1).scaleb(-places))
    value: object = {"decimal": amount, "text": str(amount), "text with separators": f"{amount:,}"}[form]
    assert parse_yuan(value) == fen


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=9))
def test_a_third_decimal_is_refused(fen: int, digit: int) -> None:
    text = f"{format_yuan(fen)}{digit}"
    with pytest.raises(ValueError) as raised:
        parse_yuan(text)
    assert str(raised.value) == f"has more than two decimals: {text.replace(',', '')}"


@given(st.integers(min_value=1, max_value=10**15))
def test_negative_amounts_are_refused(fen: int) -> None:
    with pytest.raises(ValueError, match="^is negative: -"):
        parse_yuan("-" + format_yuan(fen))


@pytest.mark.parametrize("value", ["9" * 40, "100000000000000000"])
def test_amounts_too_large_to_store_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        parse_yuan(value)


def test_an_absurd_exponent_is_refused_with_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_yuan("1e1000000")
