"""JSON written with exact decimals: a ``Decimal`` (money in yuan, made from integer fen) is written as
the number it is, ``36940.00``, never through a binary float. Lists stream: a ``Streamed`` iterable
is written item by item, one a line, as it is consumed."""

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, TextIO


class Streamed:
    """An iterable written as a JSON array, one item a line, without holding the items."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def write_json(item: Any, out: TextIO) -> None:
    """Write ``item`` (dicts, lists, ``Streamed``, str, int, bool, None, ``Decimal``) as JSON to ``out``."""
    if isinstance(item, dict):
        out.write("{")
        for number, (key, inner) in enumerate(item.items()):
            out.write(("," if number else "") + json.dumps(key, ensure_ascii=False) + ":")
            write_json(inner, out)
        out.write("}")
    elif isinstance(item, list | Streamed):
        separator = ",\n" if isinstance(item, Streamed) else ","
        out.write("[")
        for number, inner in enumerate(item):
            if number:
                out.write(separator)
            write_json(inner, out)
        out.write("]")
    elif isinstance(item, Decimal):
        if not item.is_finite():
            raise ValueError(f"not a JSON number: {item}")
        out.write(str(item))
    elif isinstance(item, bool | int | str) or item is None:
        out.write(json.dumps(item, ensure_ascii=False))
    else:
        raise TypeError(f"not JSON: {type(item).__name__}")
