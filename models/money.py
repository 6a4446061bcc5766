"""Money is integer fen (分); yuan appear only at the edges (import files and screens)."""

from decimal import Decimal, InvalidOperation

FEN_PER_YUAN = 100


def parse_yuan(value: object) -> int:
    """Turn a yuan amount (text or a spreadsheet number) into fen.

    Refuses negative amounts, more than two decimals and anything that is not a number, with a
    message that says which.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("is empty" if value is None else "is not a number")
    if isinstance(value, float):
        # Spreadsheets hand over binary floats; their shortest repr is what the user typed.
        text = repr(value)
    else:
        text = str(value).strip().replace(",", "")
    if not text:
        raise ValueError("is empty")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"is not a number: {value!r}")
    if amount < 0:
        raise ValueError(f"is negative: {text}")
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"has more than two decimals: {text}")
    return int(amount * FEN_PER_YUAN)


def format_yuan(fen: int) -> str:
    """Show fen as yuan with thousands separators: 3694000 -> '36,940.00'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{cents:02d}"
