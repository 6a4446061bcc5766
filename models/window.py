"""A list's window (limit, offset) and what every streamed list is, without SQLAlchemy.

``models.listing`` builds its lists on these; the CLI's read commands that run without SQLAlchemy
(``workflows.lean_reads``) build theirs on them too, so the printers and the JSON writer take either.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Which rows of a list: ``limit`` None means every row from ``offset`` on."""

    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise ValueError(f"limit {self.limit} is negative")
        if self.offset < 0:
            raise ValueError(f"offset {self.offset} is negative")

    @property
    def everything(self) -> bool:
        return self.limit is None and self.offset == 0


class Streamed(ABC, Generic[T]):
    """Rows in a ``window`` that stream as they are iterated (once), and how many there are in all."""

    window: Window

    @abstractmethod
    def __iter__(self) -> Iterator[T]: ...

    @abstractmethod
    def count(self) -> int: ...

    def all(self) -> list[T]:
        return list(self)
