"""The text of a rich table written directly, when rich would only lay out plain text.

``ducha projects`` and ``ducha board`` print tables of a few hundred cells; laying them out through
rich (a measurement, a segment and a style per cell) took a third of their run time. When nothing
about the table needs rich (the console writes no styles, no cell wraps or holds markup, emoji codes,
control characters or a line break, the table fits the width), the same text is written here, the
way rich writes it: the title padded to the table's width, heavy header box, each cell padded by one
space, multi-line headings aligned to the bottom. Anything else returns None and goes to rich.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len

if TYPE_CHECKING:
    from rich.console import Console


def _plain(value: object) -> str | None:
    """The text a cell shows, or None if rich might show something else (or style it)."""
    if value is None:
        return ""
    if not isinstance(value, str | int):
        return None  # a rich Text (styled) or anything else: rich decides
    text = str(value)
    if text != text.strip(" "):
        return None  # rich may drop a cell's outer spaces
    # "[" may open markup and ":" an emoji code (":smile:"); control characters and tabs are
    # rewritten by rich. Those cells, rare in a project list, are left to rich.
    if "[" in text or text.count(":") > 1 or any(ch < " " or ch == "\x7f" for ch in text):
        return None
    return text


def render(
    console: Console,
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    justify: Mapping[str, str],
) -> str | None:
    """The table as rich would print it on ``console``, or None when rich must lay it out."""
    if console.color_system is not None or console.record or not rows:
        return None
    heading = _plain(title)
    if heading is None or "\n" in title:
        return None
    cells: list[list[str]] = []
    for row in rows:
        if len(row) != len(columns):
            return None
        texts = []
        for value in row:
            text = _plain(value)
            if text is None:
                return None
            texts.append(text)
        cells.append(texts)
    headers = [name.split("\n") for name in columns]
    if any(_plain(line) is None for lines in headers for line in lines):
        return None
    widths = []
    for index, lines in enumerate(headers):
        width = max(cell_len(line) for line in lines)
        for texts in cells:
            width = max(width, cell_len(texts[index]))
        widths.append(width)
    total = sum(widths) + 3 * len(widths) + 1
    if total > console.width or cell_len(heading) > total:
        return None
    right = [justify.get(name, "left") == "right" for name in columns]
    if any(justify.get(name, "left") not in ("left", "right") for name in columns):
        return None

    def line(texts: Sequence[str], edge: str) -> str:
        parts = []
        for text, width, to_right in zip(texts, widths, right, strict=True):
            pad = " " * (width - cell_len(text))
            parts.append(f" {pad}{text} " if to_right else f" {text}{pad} ")
        return edge + edge.join(parts) + edge

    out = [heading + " " * (total - cell_len(heading))]
    out.append("┏" + "┳".join("━" * (width + 2) for width in widths) + "┓")
    depth = max(len(lines) for lines in headers)
    for level in range(depth):
        # A shorter heading sits at the bottom of the header row, as rich aligns it.
        heads: list[str] = [
            lines[level - depth + len(lines)] if level >= depth - len(lines) else "" for lines in headers
        ]
        out.append(line(heads, "┃"))
    out.append("┡" + "╇".join("━" * (width + 2) for width in widths) + "┩")
    out += [line(texts, "│") for texts in cells]
    out.append("└" + "┴".join("─" * (width + 2) for width in widths) + "┘")
    return "\n".join(out) + "\n"
