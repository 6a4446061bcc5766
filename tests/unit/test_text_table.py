"""A table written directly (ducha.cli.text_table) reads exactly as rich lays it out, or goes to rich."""

import io

import pytest
from rich.console import Console
from rich.text import Text

from ducha.cli import text_table
from ducha.cli.tables import print_table, table

COLUMNS = ("code", "town", "village", "stage", "planned\nstart", "budget\n(yuan)")
ROWS = [
    ("P001", "城关镇", "光明村", "在建 in construction", "2026-12-09", "36,940.00"),
    ("P002", "东风镇", "", "批准 approved", "—", "1,036,940.00"),
    ("P010", "河西镇", "幸福村 new", "立项 proposed", "2026-01-01", 0),
    ("P011", None, "a b  c", "暂停 suspended", "2026-01-01", 12),
]


def _rich(
    width: int, title: str, columns: tuple[str, ...], rows: list[tuple[object, ...]], **justify: str
) -> str:
    out = io.StringIO()
    Console(file=out, width=width).print(table(title, columns, rows, **justify))
    return out.getvalue()


def _ours(
    width: int, title: str, columns: tuple[str, ...], rows: list[tuple[object, ...]], **justify: str
) -> str:
    out = io.StringIO()
    print_table(Console(file=out, width=width), title, columns, rows, **justify)
    return out.getvalue()


@pytest.mark.parametrize("width", [160, 100, 81])
def test_a_plain_table_that_fits_is_written_directly_and_reads_as_rich_writes_it(width: int) -> None:
    justify = {"budget\n(yuan)": "right", "planned\nstart": "left"}
    console = Console(file=io.StringIO(), width=width)
    assert (
        text_table.render(console, "4 projects, as of 2026-12-10 09:00", COLUMNS, ROWS, justify) is not None
    )
    assert _ours(width, "4 projects, as of 2026-12-10 09:00", COLUMNS, ROWS, **justify) == _rich(
        width, "4 projects, as of 2026-12-10 09:00", COLUMNS, ROWS, **justify
    )


def test_a_table_wider_than_the_console_goes_to_rich() -> None:
    justify = {"budget\n(yuan)": "right"}
    assert text_table.render(Console(file=io.StringIO(), width=80), "t", COLUMNS, ROWS, justify) is None
    assert _ours(60, "t", COLUMNS, ROWS, **justify) == _rich(60, "t", COLUMNS, ROWS, **justify)


def test_counts_and_a_title_longer_than_its_cells() -> None:
    columns, rows = ("stage", "projects"), [("立项 proposed", 1), ("total", 50)]
    title = "projects per stage, a title longer than the table"
    assert _ours(160, title, columns, rows, projects="right") == _rich(
        160, title, columns, rows, projects="right"
    )


@pytest.mark.parametrize(
    "value",
    [
        "[bold]x[/bold]",  # markup: shown as itself
        "[/]",
        ":thumbs_up: and :smile:",  # emoji codes
        "tab\there",
        "two\nlines",
        " padded ",
        "\x1b[31mred",
        "a" * 200,  # wider than the console: rich wraps it
    ],
)
def test_what_rich_would_change_goes_to_rich(value: str) -> None:
    rows = [("P001", value)]
    console = Console(file=io.StringIO(), width=80)
    assert text_table.render(console, "t", ("code", "name"), rows, {}) is None
    assert _ours(80, "t", ("code", "name"), rows) == _rich(80, "t", ("code", "name"), rows)


def test_a_styled_cell_a_colour_console_or_no_rows_go_to_rich() -> None:
    assert (
        text_table.render(Console(file=io.StringIO()), "t", ("a",), [(Text("OVERDUE", style="red"),)], {})
        is None
    )
    coloured = Console(file=io.StringIO(), force_terminal=True, color_system="standard")
    assert text_table.render(coloured, "t", ("a",), [("x",)], {}) is None
    assert text_table.render(Console(file=io.StringIO()), "t", ("a",), [], {}) is None
    assert _ours(80, "t", ("a",), []) == _rich(80, "t", ("a",), [])
