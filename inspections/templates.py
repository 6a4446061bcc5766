"""Checklist templates (检查表): the YAML format, its validation, and the built-in templates.

A template is versioned YAML: sections (质量 quality, 进度 progress, 资金使用 fund use, 安全 safety,
资料 documents) hold weighted items of four kinds (pass/fail, a score 0..max, a measurement with a
tolerance, evidence files). Every error names the file, the line and the field.

What a failed item creates is a rectification order (整改通知) described by ``on_fail``:
- ``severity`` defaults to ``critical`` for a critical item and ``major`` otherwise. A critical item
  may not ask for a ``minor`` order: its failure fails the whole inspection, so the fix is never minor.
- ``responsible`` defaults to the project's specialist (专干); ``leader`` (责任领导) names the leader.
- ``description`` is the order's text with plain ``{name}`` placeholders; which names an item may use
  depends on its kind (see ``PLACEHOLDERS``). Without one, a default per kind is used.
"""

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from models import InspectionKind, Role
from models.yaml_source import Loc, SourceError, SourceProblem, YamlDocument, field_path

# A data folder (not a package), named so that it shadows no module of this package.
BUILTIN_DIR = Path(__file__).parent / "checklist_templates"
TEMPLATE_KEY_PATTERN = r"^[a-z][a-z0-9_-]*$"
ITEM_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


class SectionKey(StrEnum):
    QUALITY = "quality"  # 质量
    PROGRESS = "progress"  # 进度
    FUND_USE = "fund_use"  # 资金使用
    SAFETY = "safety"  # 安全
    DOCUMENTS = "documents"  # 资料


class ItemKind(StrEnum):
    PASS_FAIL = "pass_fail"
    SCORE = "score"
    MEASUREMENT = "measurement"
    EVIDENCE = "evidence"

    @property
    def noun(self) -> str:
        """The kind as a phrase for messages: a score item, an evidence item."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.value} item"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class Responsible(StrEnum):
    """Who answers for a failed item's order: the project's specialist (专干) or its leader (责任领导)."""

    SPECIALIST = "specialist"
    LEADER = "leader"

    @property
    def role(self) -> Role:
        return Role(self.value)


# The fields only one kind of item takes, and the placeholders an order description may use.
KIND_FIELDS: Mapping[ItemKind, tuple[str, ...]] = {
    ItemKind.PASS_FAIL: (),
    ItemKind.SCORE: ("max", "pass_at"),
    ItemKind.MEASUREMENT: ("target", "tolerance", "unit"),
    ItemKind.EVIDENCE: ("min_files",),
}
PLACEHOLDERS: Mapping[ItemKind, frozenset[str]] = {
    ItemKind.PASS_FAIL: frozenset({"item", "notes"}),
    ItemKind.SCORE: frozenset({"item", "notes", "value", "max", "pass_at"}),
    ItemKind.MEASUREMENT: frozenset({"item", "notes", "value", "target", "tolerance", "unit"}),
    ItemKind.EVIDENCE: frozenset({"item", "notes", "evidence_count", "min_files"}),
}
DEFAULT_DESCRIPTIONS: Mapping[ItemKind, str] = {
    ItemKind.PASS_FAIL: "{item}:不符合要求",
    ItemKind.SCORE: "{item}:得分{value}/{max},未达到{pass_at}分",
    ItemKind.MEASUREMENT: "{item}:实测{value}{unit},要求{target}±{tolerance}{unit}",
    ItemKind.EVIDENCE: "{item}:佐证材料{evidence_count}份,少于要求的{min_files}份",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnFail(_Strict):
    """The rectification order a failed item creates."""

    severity: Severity | None = None
    responsible: Responsible = Responsible.SPECIALIST
    description: str | None = Field(default=None, min_length=1)


class ChecklistItem(_Strict):
    """One thing an inspector checks; the fields after ``critical`` depend on ``kind``."""

    key: str = Field(pattern=ITEM_KEY_PATTERN, max_length=64)
    text: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    kind: ItemKind
    weight: int = Field(gt=0)
    critical: bool = False
    max: int | None = Field(default=None, ge=1)
    pass_at: int | None = Field(default=None, ge=0)
    target: Decimal | None = Field(default=None, allow_inf_nan=False)
    tolerance: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    unit: str | None = Field(default=None, min_length=1)
    min_files: int | None = Field(default=None, ge=1)
    on_fail: OnFail = Field(default_factory=OnFail)

    @property
    def severity(self) -> Severity:
        """The severity of the order a failure creates."""
        if self.on_fail.severity is not None:
            return self.on_fail.severity
        return Severity.CRITICAL if self.critical else Severity.MAJOR

    @property
    def responsible(self) -> Role:
        return self.on_fail.responsible.role

    def failure_description(self, *, value: int | Decimal | None, evidence_count: int, notes: str) -> str:
        """Render the order text for a failed result of this item."""
        text = self.on_fail.description or DEFAULT_DESCRIPTIONS[self.kind]
        fields: dict[str, object] = {
            "item": self.text,
            "notes": notes,
            "value": value,
            "max": self.max,
            "pass_at": self.pass_at,
            "target": self.target,
            "tolerance": self.tolerance,
            "unit": self.unit,
            "min_files": self.min_files,
            "evidence_count": evidence_count,
        }
        return text.format_map(fields)


class Section(_Strict):
    key: SectionKey
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    items: list[ChecklistItem]


class ChecklistTemplate(_Strict):
    """A versioned checklist for one kind of inspection."""

    key: str = Field(pattern=TEMPLATE_KEY_PATTERN, max_length=64)
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    kind: InspectionKind
    pass_threshold: int = Field(ge=0, le=100)
    min_inspectors: int = Field(default=1, ge=1)
    sections: list[Section] = Field(min_length=1)

    def iter_items(self) -> Iterator[tuple[Section, ChecklistItem]]:
        """Every item with its section, in the template's order."""
        for section in self.sections:
            for item in section.items:
                yield section, item

    def item(self, key: str) -> ChecklistItem | None:
        return next((item for _, item in self.iter_items() if item.key == key), None)

    def item_keys(self) -> list[str]:
        return [item.key for _, item in self.iter_items()]


def parse_template(text: str, source: str) -> ChecklistTemplate:
    """Parse and validate a checklist template; raise SourceError listing every problem."""
    document = YamlDocument(text, source)
    template = document.validate(ChecklistTemplate)
    problems = list(_semantic_problems(template, document))
    if problems:
        raise SourceError(source, problems)
    return template


def _semantic_problems(template: ChecklistTemplate, doc: YamlDocument) -> Iterator[SourceProblem]:
    if template.kind == InspectionKind.RE_INSPECTION:
        yield doc.problem(
            ("kind",),
            "re_inspection has no template of its own: a re-inspection reuses the one it follows up",
        )
    if template.kind == InspectionKind.ACCEPTANCE and template.min_inspectors < 2:
        yield doc.problem(("min_inspectors",), "an acceptance needs at least 2 inspectors")
    sections: set[SectionKey] = set()
    items: dict[str, Loc] = {}
    for index, section in enumerate(template.sections):
        loc: Loc = ("sections", index)
        if section.key in sections:
            yield doc.problem((*loc, "key"), f"duplicate section {section.key.value!r}")
        sections.add(section.key)
        if not section.items:
            yield doc.problem((*loc, "items"), f"section {section.key.value!r} has no items")
        for item_index, item in enumerate(section.items):
            item_loc: Loc = (*loc, "items", item_index)
            first = items.get(item.key)
            if first is not None:
                yield doc.problem(
                    (*item_loc, "key"), f"duplicate item {item.key!r} (first at {field_path(first)})"
                )
            else:
                items[item.key] = item_loc
            yield from _item_problems(item, item_loc, doc)


def _item_problems(item: ChecklistItem, loc: Loc, doc: YamlDocument) -> Iterator[SourceProblem]:
    given = item.model_fields_set
    for kind, fields in KIND_FIELDS.items():
        for name in fields:
            if kind == item.kind and getattr(item, name) is None:
                yield doc.problem((*loc, name), f"{kind.noun} needs {name}")
            elif kind != item.kind and name in given:
                yield doc.problem((*loc, name), f"{name} applies only to {kind.value} items")
    if item.kind == ItemKind.SCORE and item.max is not None and item.pass_at is not None:
        if item.pass_at > item.max:
            yield doc.problem((*loc, "pass_at"), f"pass_at {item.pass_at} is above max {item.max}")
    if item.critical and item.on_fail.severity == Severity.MINOR:
        yield doc.problem(
            (*loc, "on_fail", "severity"),
            "a critical item fails the inspection, so its order cannot be minor (use critical or major)",
        )
    if item.on_fail.description is not None:
        message = _placeholder_problem(item.on_fail.description, item.kind)
        if message is not None:
            yield doc.problem((*loc, "on_fail", "description"), message)


def _placeholder_problem(text: str, kind: ItemKind) -> str | None:
    """Why ``text`` is not a usable description for ``kind``, or None if it is."""
    known = PLACEHOLDERS[kind]
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        return f"not a valid description template: {exc} (write {{{{ and }}}} for literal braces)"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in known or spec or conversion:
            return (
                f"unknown placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} for {kind.noun} "
                f"(known: {', '.join('{' + n + '}' for n in sorted(known))})"
            )
    return None


def builtin_template_files() -> list[Path]:
    """The YAML files of the built-in templates."""
    return sorted(BUILTIN_DIR.glob("*.yaml"))


@dataclass(frozen=True)
class BuiltinTemplate:
    """A built-in template as parsed, with the exact text and file name it is kept under."""

    template: ChecklistTemplate
    text: str
    source: str


@lru_cache(maxsize=1)
def builtin_templates() -> tuple[BuiltinTemplate, ...]:
    """Every built-in template, parsed once; a key and version may appear only once."""
    templates: dict[tuple[str, int], BuiltinTemplate] = {}
    for path in builtin_template_files():
        text = path.read_text(encoding="utf-8")
        template = parse_template(text, path.name)
        if (template.key, template.version) in templates:
            raise SourceError(
                path.name,
                [SourceProblem(None, "key", f"{template.key} v{template.version} is defined twice")],
            )
        templates[(template.key, template.version)] = BuiltinTemplate(template, text, path.name)
    return tuple(templates.values())
