"""The error vocabulary every front end maps once: bad input, not found, refused, conflict.

``BadInput`` is the user's to fix (CLI exit 2, HTTP 422); ``NotFound`` names something that is not
there (404); ``Refused`` is a rule or a role saying no (409); ``Conflict`` is someone else having
changed the thing meanwhile, so a retry may pass (409). Anything that is not a ``DuchaError`` is a
bug. Errors that carry several located problems (a register, a YAML file, a checklist) derive from
``Problems`` and give one line per problem in ``lines()``.
"""

from collections.abc import Iterable
from typing import ClassVar


class DuchaError(Exception):
    """An error ducha reports to a person, with a message they can act on."""

    # True when every line already says where the problem is ("file:12: field: …").
    located: ClassVar[bool] = False
    # A closing line after the problems ("nothing imported (3 problems)"), if any.
    summary: str | None = None

    def lines(self) -> list[str]:
        """The message, one line per problem."""
        return [str(self)]


class BadInput(DuchaError):
    """What was given cannot be used: a malformed value, file or reference."""


class NotFound(BadInput):
    """Nothing matches what was named (or too many things do)."""


class Refused(BadInput):
    """A rule or a role says no; nothing was written."""


class Conflict(Refused):
    """Someone else changed it since it was read; nothing was written, a retry may pass."""


class Problems(BadInput):
    """Several located problems (file, row, field), reported together; nothing was written."""

    located = True

    def __init__(self, problems: Iterable[str], summary: str | None = None) -> None:
        self._lines = list(problems)
        self.summary = summary
        super().__init__("\n".join(self._lines))

    def lines(self) -> list[str]:
        return list(self._lines)


def candidates(names: Iterable[str], *, total: int, shown: int = 5) -> str:
    """At most ``shown`` names and how many there are in all: 'a, b, c and 797 more'."""
    listed = list(names)[:shown]
    rest = total - len(listed)
    return ", ".join(listed) + (f" and {rest} more" if rest > 0 else "")
