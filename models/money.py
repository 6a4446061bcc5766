"""Money is integer fen (分); yuan appear only at the edges (import files and screens)."""

import re
from decimal import Decimal, DecimalException, localcontext

FEN_PER_YUAN = 100
# The largest amount a BIGINT column holds.
MAX_FEN = 2**63 - 1
# Below this a spreadsheet's number cell (a double, 15 significant digits) holds an amount exact to
# the fen; at or above it the workbooks write the amount as text (workflows.ledger_export).
EXACT_BELOW_FEN = 10**15
THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")


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
        text = str(value).strip()
        if "," in text:
            # Commas only as thousands separators (36,940.00); "1,5" is not 1.5 nor 15.
            if not THOUSANDS.match(text):
                raise ValueError(f"is not a number: {value!r}")
            text = text.replace(",", "")
    if not text:
        raise ValueError("is empty")
    try:
        amount = Decimal(text)
    except DecimalException:
        raise ValueError(f"is not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"is not a number: {value!r}")
    if amount < 0:
        raise ValueError(f"is negative: {text}")
    if amount.adjusted() > 18:
        raise ValueError(f"is too large: {text}")
    with localcontext() as context:
        context.prec = 40  # exact for every amount up to MAX_FEN, whatever the default precision
        fen = amount * FEN_PER_YUAN
        if fen != fen.to_integral_value():
            raise ValueError(f"has more than two decimals: {text}")
    if fen > MAX_FEN:
        raise ValueError(f"is too large: {text}")
    return int(fen)


def format_yuan(fen: int) -> str:
    """Show fen as yuan with thousands separators: 3694000 -> '36,940.00'."""
    # int(): PostgreSQL's sum() of fen arrives as an integral Decimal, which the format below refuses.
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{cents:02d}"
