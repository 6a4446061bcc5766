"""Inspection forms: the blank checklist an inspector fills in, and reading it back.

A form is YAML. Errors name the file, the line and the field; nothing is stored from a form with
any error.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from inspections.evidence import GpsPoint
from inspections.scoring import ItemResult
from inspections.templates import ChecklistItem, ChecklistTemplate, ItemKind
from models import InspectionItemResult, InspectionKind
from models.localtime import LOCAL_TZ
from models.text import normalised, problem
from models.types import MAX_ID
from models.yaml_source import SourceError, SourceProblem, YamlDocument


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Ids and versions are whole numbers a BIGINT holds; ``true`` is not a number.
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
NOTES = 2000
# A measurement or score is a plain number within this size (1e999999999 is not a reading).
MAX_MAGNITUDE = Decimal(10) ** 12


def _text(max_length: int, multiline: bool = False) -> Any:
    def check(value: object) -> object:
        if isinstance(value, str):
            text = normalised(value)
            wrong = problem(text, max_length=max_length, multiline=multiline)
            if wrong is not None:
                raise ValueError(wrong)
            return text
        return value

    return BeforeValidator(check)


Name = Annotated[str, _text(100)]
Notes = Annotated[str, _text(NOTES, multiline=True)]


def _no_booleans(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    return value


class EvidenceEntry(_Strict):
    file: str = Field(max_length=1024)  # the evidence store checks the name itself
    taken_at: datetime | None = None
    gps: tuple[float, float] | None = None


class ResultEntry(_Strict):
    passed: bool | None = None
    value: Annotated[int | float | str | None, BeforeValidator(_no_booleans)] = None
    waived: bool = False
    notes: Notes = ""
    evidence: list[EvidenceEntry] = Field(default_factory=list, max_length=100)


class InspectionForm(_Strict):
    inspection: Id | None = None
    project: Name
    template: Annotated[str, _text(64)]
    template_version: Id
    kind: InspectionKind
    inspected_at: datetime | str
    announced: bool = True
    inspectors: list[Name] = Field(min_length=1, max_length=50)
    supersedes: Id | None = None
    follow_up_of: Id | None = None
    notes: Notes = ""
    results: dict[str, ResultEntry] = Field(max_length=500)


@dataclass(frozen=True)
class EvidenceFileRef:
    path: Path
    original_name: str
    taken_at: datetime | None
    gps: GpsPoint | None


@dataclass(frozen=True)
class FilledForm:
    """A form read and checked against its template; references are still unresolved names."""

    source: str
    draft_id: int | None
    project_ref: str
    template_key: str
    template_version: int
    kind: InspectionKind
    inspected_at: datetime
    announced: bool
    inspector_refs: list[str]
    supersedes_id: int | None
    follow_up_of_id: int | None
    notes: str
    results: list[ItemResult]
    evidence: dict[str, list[EvidenceFileRef]] = field(default_factory=dict)


# (template key, version) -> the template; raises LookupError for an unknown one.
TemplateLookup = Callable[[str, int], ChecklistTemplate]


def read_form(path: Path, template_for: TemplateLookup) -> FilledForm:
    """Read a filled form; ``template_for(key, version)`` gives its template."""
    source = str(path)
    document = YamlDocument.from_path(path)
    form = document.validate(InspectionForm)
    problems: list[SourceProblem] = []
    try:
        template = template_for(form.template, form.template_version)
    except LookupError as exc:
        raise SourceError(source, [document.problem(("template",), str(exc))]) from None
    inspected_at = _instant(form.inspected_at)
    if inspected_at is None:
        problems.append(document.problem(("inspected_at",), f"not an ISO 8601 time: {form.inspected_at!r}"))
    if form.kind != template.kind and form.kind not in (
        InspectionKind.RE_INSPECTION,
        InspectionKind.SPOT_CHECK,
    ):
        problems.append(
            document.problem(("kind",), f"template {template.key} is for {template.kind}, not {form.kind}")
        )
    if form.kind == InspectionKind.RE_INSPECTION and form.follow_up_of is None:
        problems.append(
            document.problem(("follow_up_of",), "a re-inspection names the inspection it follows up")
        )
    results: list[ItemResult] = []
    evidence: dict[str, list[EvidenceFileRef]] = {}
    for key, entry in form.results.items():
        loc = ("results", key)
        item = template.item(key)
        if item is None:
            problems.append(document.problem(loc, f"unknown item {key!r} in template {template.key}"))
            continue
        refs = []
        seen: set[Path] = set()
        for index, ev in enumerate(entry.evidence):
            where = (*loc, "evidence", index, "file")
            file_path, wrong = _beside(path, ev.file)
            if wrong is not None or file_path is None:
                problems.append(document.problem(where, wrong or f"no such file: {ev.file}"))
                continue
            if file_path in seen:
                continue  # the same file listed twice is one piece of evidence
            seen.add(file_path)
            gps = None
            if ev.gps is not None:
                try:
                    gps = GpsPoint(latitude=ev.gps[0], longitude=ev.gps[1])
                except ValueError as exc:
                    problems.append(document.problem((*loc, "evidence", index, "gps"), str(exc)))
            taken = ev.taken_at.replace(tzinfo=ev.taken_at.tzinfo or LOCAL_TZ) if ev.taken_at else None
            refs.append(EvidenceFileRef(file_path, Path(ev.file).name, taken, gps))
        evidence[key] = refs
        value, message = _value(item, entry)
        if message:
            problems.append(document.problem((*loc, "value"), message))
        results.append(
            ItemResult(
                item_key=key,
                passed=entry.passed,
                value=value,
                evidence_count=len(refs),
                waived=entry.waived,
                notes=entry.notes,
            )
        )
    if form.kind == InspectionKind.RE_INSPECTION:
        # A re-inspection looks again only at the flagged items; the rest are not scored.
        for key in template.item_keys():
            if key not in form.results:
                results.append(ItemResult(item_key=key, waived=True, notes="not re-inspected"))
    if problems or inspected_at is None:
        raise SourceError(source, problems)
    return FilledForm(
        source=source,
        draft_id=form.inspection,
        project_ref=form.project,
        template_key=template.key,
        template_version=template.version,
        kind=form.kind,
        inspected_at=inspected_at,
        announced=form.announced,
        inspector_refs=form.inspectors,
        supersedes_id=form.supersedes,
        follow_up_of_id=form.follow_up_of,
        notes=form.notes,
        results=results,
        evidence=evidence,
    )


def _beside(form: Path, given: str) -> tuple[Path | None, str | None]:
    """The evidence file a form names: under the form's own folder, a plain file, not a link."""
    if Path(given).is_absolute():
        return None, f"{given} is an absolute path: name a file in the form's folder"
    folder = form.parent.resolve()
    candidate = form.parent / given
    if candidate.is_symlink():
        return None, f"{given} is a symbolic link: give the file itself"
    resolved = candidate.resolve()
    if not resolved.is_relative_to(folder):
        return None, f"{given} is outside the form's folder ({folder})"
    if not resolved.is_file():
        return None, f"no such file: {given}"
    return resolved, None


def _instant(value: datetime | str) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)


def _value(item: ChecklistItem, entry: ResultEntry) -> tuple[int | Decimal | None, str | None]:
    """The typed value for the item's kind; blank values are left for scoring to report."""
    raw = entry.value
    if raw is None or entry.waived:
        return None, None
    if item.kind == ItemKind.SCORE:
        if isinstance(raw, int) and abs(raw) <= MAX_MAGNITUDE:
            return raw, None
        return None, f"a score item takes a whole number 0..{item.max}, got {raw!r}"
    if item.kind == ItemKind.MEASUREMENT:
        try:
            number = Decimal(str(raw).strip())
        except ArithmeticError:
            return None, f"not a number: {raw!r}"
        # Read from the exponent: arithmetic on 1e999999999 itself overflows the decimal context.
        if not number.is_finite() or number.adjusted() >= 12 or number.as_tuple().exponent < -6:  # type: ignore[operator]
            return None, f"not a measurement: {raw!r} (a number up to 10^12, at most 6 decimals)"
        return number, None
    return None, f"{item.kind.noun} takes no value"


def blank_form(
    *,
    template: ChecklistTemplate,
    project_code: str,
    kind: InspectionKind,
    inspected_at: datetime,
    inspector_refs: Sequence[str],
    follow_up_of: int | None = None,
    carried: Mapping[str, InspectionItemResult] | None = None,
) -> str:
    """The checklist to fill in; a re-inspection carries only the flagged items, with their old result."""
    lines = [
        f"# 督查 {template.title} ({template.title_en})",
        "# Fill in every result, then: ducha inspect record THIS_FILE",
        "# passed: true/false for pass/fail items; value: a number for score and measurement items;",
        "# evidence: files next to this form, e.g.",
        "#   [{file: photo.jpg, taken_at: '2026-12-10T10:05', gps: [22.8, 108.3]}];",
        "# waived: true to leave an item out of the score (say why in notes).",
        "inspection: null",
        f"project: {project_code}",
        f"template: {template.key}",
        f"template_version: {template.version}",
        f"kind: {kind.value}",
        f"inspected_at: '{inspected_at.astimezone(LOCAL_TZ).isoformat(timespec='minutes')}'",
        f"announced: {'false' if kind in (InspectionKind.SPOT_CHECK,) else 'true'}",
        f"inspectors: [{', '.join(repr(ref) for ref in inspector_refs)}]",
        "supersedes: null",
        f"follow_up_of: {follow_up_of if follow_up_of is not None else 'null'}",
        "notes: ''",
        "results:",
    ]
    for section, item in template.iter_items():
        if carried is not None and item.key not in carried:
            continue
        lines.append(
            f"  # [{section.title}] {item.text} ({item.text_en}){' — CRITICAL' if item.critical else ''}"
        )
        lines.append(f"  #   {_hint(item)}")
        if carried is not None:
            old = carried[item.key]
            lines.append(f"  #   originally: {old.verdict}; value {old.value}; notes: {old.notes or '—'}")
        lines.append(f"  {item.key}:")
        if item.kind == ItemKind.PASS_FAIL:
            lines.append("    passed: null")
        elif item.kind in (ItemKind.SCORE, ItemKind.MEASUREMENT):
            lines.append("    value: null")
        lines.append("    notes: ''")
        lines.append("    evidence: []")
    return "\n".join(lines) + "\n"


def _hint(item: ChecklistItem) -> str:
    if item.kind == ItemKind.SCORE:
        return f"score 0..{item.max}, passes at {item.pass_at}; weight {item.weight}"
    if item.kind == ItemKind.MEASUREMENT:
        return f"measure {item.unit}: target {item.target} ± {item.tolerance}; weight {item.weight}"
    if item.kind == ItemKind.EVIDENCE:
        return f"attach at least {item.min_files} evidence file(s); weight {item.weight}"
    return f"pass or fail; weight {item.weight}"
