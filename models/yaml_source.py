"""Load YAML and remember the line of every value, so errors name file, line and field."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from models.errors import BadInput

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
# A definition, checklist or holiday file is a few kilobytes; anything past this is not one.
MAX_SOURCE_BYTES = 1024 * 1024


def read_source_text(path: Path) -> str:
    """The text of a source file, refused with its name when missing, too big or not UTF-8."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise BadInput(f"{path}: not a file")
        if size > MAX_SOURCE_BYTES:
            raise BadInput(
                f"{path}: {size:,} bytes is too big for a source file (at most {MAX_SOURCE_BYTES:,})"
            )
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read: {exc.strerror}") from None


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong with a source file, located as precisely as it can be."""

    line: int | None
    field: str
    message: str


class SourceError(BadInput):
    """A YAML source file is invalid; carries every problem found."""

    located = True

    def __init__(self, source: str, problems: Sequence[SourceProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for problem in self.problems:
            where = f"{self.source}:{problem.line}" if problem.line else self.source
            field = f" {problem.field}:" if problem.field else ""
            out.append(f"{where}:{field} {problem.message}")
        return out


def field_path(loc: Loc) -> str:
    """Render a location as ``stages[2].key``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


# The C parser (libyaml), where PyYAML has it: about 30 times faster than the pure-Python one. Only
# for a text that was checked in full once already (a stored definition read back on every command);
# a file being loaded keeps the pure-Python parser, whose wording the error messages quote.
STORED_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Deeper than this is no definition, checklist or holiday file, only a way to exhaust the stack.
MAX_DEPTH = 32


def _refuse_what_no_source_needs(text: str, source: str, loader: Any) -> None:
    """Refuse anchors and aliases (one alias can stand for billions of values: "billion laughs"),
    nesting past MAX_DEPTH, and a text longer than a source file can be, before building anything."""
    if len(text) > MAX_SOURCE_BYTES:
        raise SourceError(source, [SourceProblem(None, "", f"longer than {MAX_SOURCE_BYTES:,} characters")])
    depth = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise SourceError(
                    source, [SourceProblem(line, "", "anchors and aliases (& and *) are not allowed here")]
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SourceError(
                        source, [SourceProblem(line, "", f"nested deeper than {MAX_DEPTH} levels")]
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # reported, located, by the full parse below


class YamlDocument:
    """Parsed YAML plus the 1-based line of each mapping key and sequence item.

    ``stored``: the text was checked in full when it was stored; read it with the faster parser (the
    same checks run on what it builds).
    """

    def __init__(self, text: str, source: str, *, stored: bool = False) -> None:
        self.source = source
        loader_type: Any = STORED_LOADER if stored else yaml.SafeLoader
        _refuse_what_no_source_needs(text, source, loader_type)
        try:
            loader = loader_type(text)  # refuses characters YAML does not allow (a NUL) already
        except yaml.YAMLError as exc:
            raise SourceError(source, [SourceProblem(None, "", f"not valid YAML: {exc}")]) from None
        try:
            node = loader.get_single_node()
            # Construct from the same node tree the lines come from; tags like !!int fail here.
            self.data: Any = loader.construct_document(node) if node is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise SourceError(source, [SourceProblem(line, "", f"not valid YAML: {problem}")]) from None
        except ValueError as exc:
            # A scalar that is not of its type (2027-02-30, !!int one): find it and say where.
            assert node is not None
            problems = list(_unconstructable(node, ())) or [SourceProblem(None, "", f"not valid YAML: {exc}")]
            raise SourceError(source, problems) from None
        finally:
            loader.dispose()
        self._lines: dict[Loc, int] = {}
        self._duplicates: list[SourceProblem] = []
        if node is not None:
            self._index(node, ())
        if self._duplicates:
            raise SourceError(source, self._duplicates)

    @classmethod
    def from_path(cls, path: Path) -> "YamlDocument":
        return cls(read_source_text(path), str(path))

    def _index(self, node: yaml.Node, loc: Loc) -> None:
        self._lines[loc] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                line = key_node.start_mark.line + 1
                if key in seen:
                    # YAML would keep the last value silently; a duplicate key is almost always a slip.
                    self._duplicates.append(
                        SourceProblem(
                            line, field_path((*loc, key)), f"duplicate key (also on line {seen[key]})"
                        )
                    )
                seen.setdefault(key, line)
                self._index(value_node, (*loc, key))
                self._lines[(*loc, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._index(item, (*loc, index))

    def line_of(self, loc: Loc) -> int | None:
        """The line of the deepest part of ``loc`` that exists in the file."""
        for end in range(len(loc), -1, -1):
            line = self._lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def problem(self, loc: Loc, message: str) -> SourceProblem:
        return SourceProblem(self.line_of(loc), field_path(loc), message)

    def validate(self, model: type[M]) -> M:
        """Validate the document as ``model``; pydantic errors become located problems."""
        try:
            return model.model_validate(self.data if self.data is not None else {})
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
                # Pydantic puts tagged-union and validator names in loc; keep the file's own keys.
                problems.append(self.problem(loc, error["msg"]))
            raise SourceError(self.source, problems) from None


def _unconstructable(node: yaml.Node, loc: Loc) -> list[SourceProblem]:
    """Every scalar under ``node`` that PyYAML cannot build, located."""
    if isinstance(node, yaml.MappingNode):
        return [p for key, value in node.value for p in _unconstructable(value, (*loc, key.value))]
    if isinstance(node, yaml.SequenceNode):
        return [p for index, item in enumerate(node.value) for p in _unconstructable(item, (*loc, index))]
    try:
        yaml.SafeLoader("").construct_object(node)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "a date" if node.tag.endswith(":timestamp") else f"a valid {node.tag.rsplit(':', 1)[-1]}"
        return [SourceProblem(node.start_mark.line + 1, field_path(loc), f"not {kind}: {node.value} ({exc})")]
    return []
