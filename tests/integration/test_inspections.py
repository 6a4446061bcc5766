"""Inspections end to end: forms on disk, signing, orders and deadlines, corrections, re-inspections,
the lifecycle guards that read them, and the recorded 四不两直 spot-check draw."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, col, select

from ducha.demo.inspections import photo
from inspections.attachments import EvidenceItem
from inspections.evidence import EvidenceRejected, EvidenceStore
from inspections.forms import blank_form
from inspections.loaded_templates import get_template
from inspections.orders import OrderRefused, list_orders, respond, verify
from inspections.recording import InspectionRefused
from inspections.scoring import ResultError
from inspections.spot_checks import draw_spot_check, replay
from inspections.templates import ItemKind
from models import (
    EvidenceAttachment,
    Inspection,
    InspectionItemResult,
    InspectionKind,
    OrderEvent,
    Person,
    Programme,
    Project,
    RectificationOrder,
    SpotCheckDraw,
)
from models.calendar import WorkingCalendar
from models.localtime import LOCAL_TZ
from models.yaml_source import SourceError
from tests import builders
from tests.builders import T0
from workflows.actions import SignedInLifecycle, record_inspection_form, sign_inspection
from workflows.engine import TransitionRefused, apply_transition
from workflows.projects import history

AT = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # Wednesday 2 December 2026, 10:00 in Shanghai
CALENDAR = WorkingCalendar.load()
Edit = Callable[[dict[str, Any], Path], object]
_numbers = itertools.count(1)


@dataclass(frozen=True)
class World:
    prog: Programme
    proj: Project
    leader: Person
    specialist: Person
    team: list[Person]  # the two inspectors every form lists
    outsider: Person  # an inspector who took no part
    office: Person
    store: EvidenceStore
    folder: Path


@pytest.fixture(name="w")
def world(session: Session, tmp_path: Path, evidence_dir: Path) -> World:
    prog = builders.programme(session)
    leader, specialist = builders.person(session, "和平村领导"), builders.person(session, "和平村专干")
    proj = builders.project(session, prog, leader=leader, specialist=specialist)
    team, office = builders.inspectors(session, 3), builders.office_member(session)
    session.commit()
    (tmp_path / "forms").mkdir()
    store = EvidenceStore(evidence_dir)
    return World(prog, proj, leader, specialist, team[:2], team[2], office, store, tmp_path / "forms")


def _photo(folder: Path, name: str, data: bytes | None = None) -> dict[str, str]:
    (folder / name).write_bytes(photo(name, len(name)) if data is None else data)
    return {"file": name}


def _form(
    session: Session, w: World, template_key: str, *, fail: tuple[str, ...] = (), edit: Edit | None = None,
    at: datetime = AT, **blank: Any,
) -> Path:  # fmt: skip
    """A form from blank_form, written to a YAML file and filled so every item passes but ``fail``."""
    _, template = get_template(session=session, key=template_key)
    blank.setdefault("kind", template.kind)
    refs = [p.name for p in w.team]
    text = blank_form(
        template=template, project_code=w.proj.code, inspected_at=at, inspector_refs=refs, **blank
    )
    data = yaml.safe_load(text)
    for key, entry in data["results"].items():
        item, failing = template.item(key), key in fail
        assert item is not None
        if item.kind == ItemKind.PASS_FAIL:
            entry["passed"] = not failing
        elif item.kind == ItemKind.SCORE:
            entry["value"] = (item.pass_at or 0) - 1 if failing else item.max
        elif item.kind == ItemKind.MEASUREMENT:
            entry["value"] = 2 * int(item.tolerance or 0) if failing else 0
        elif not failing:
            entry["evidence"] = [_photo(w.folder, f"{key}-{n}.png") for n in range(item.min_files or 0)]
    if edit is not None:
        edit(data, w.folder)
    path = w.folder / f"form-{next(_numbers)}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _record(session: Session, w: World, path: Path, now: datetime = AT) -> Inspection:
    recorded = record_inspection_form(session=session, path=path, evidence=w.store, actor=w.team[0], now=now)
    session.commit()
    return recorded.inspection


def _sign(
    session: Session, w: World, inspection: Inspection, now: datetime = AT, actor: Person | None = None
) -> SignedInLifecycle:
    assert inspection.id is not None
    actor = actor or w.team[0]
    done = sign_inspection(
        session=session, inspection_id=inspection.id, actor=actor, now=now, calendar=CALENDAR
    )
    session.commit()
    return done


def _signed(session: Session, w: World, template_key: str, **form: Any) -> Inspection:
    inspection = _record(session, w, _form(session, w, template_key, **form), now=form.get("at", AT))
    _sign(session, w, inspection, now=form.get("at", AT))
    return inspection


def _refused(session: Session, error: type[Exception], step: Callable[[], object], message: str) -> None:
    with pytest.raises(error) as raised:
        step()
    assert str(raised.value) == message
    session.rollback()


def _orders(session: Session, project: Project) -> dict[str, RectificationOrder]:
    query = select(RectificationOrder).where(col(RectificationOrder.project_id) == project.id)
    return {o.item_key: o for o in session.exec(query.order_by(col(RectificationOrder.id))).all()}


def _events(session: Session, order: RectificationOrder) -> list[OrderEvent]:
    query = select(OrderEvent).where(col(OrderEvent.order_id) == order.id).order_by(col(OrderEvent.id))
    return list(session.exec(query).all())


def _results(session: Session, inspection: Inspection, verdict: str) -> dict[str, InspectionItemResult]:
    query = select(InspectionItemResult).where(
        col(InspectionItemResult.inspection_id) == inspection.id, col(InspectionItemResult.verdict) == verdict
    )
    return {row.item_key: row for row in session.exec(query).all()}


def _counts(session: Session) -> dict[str, int]:
    tables = SQLModel.metadata.sorted_tables
    return {t.name: session.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one() for t in tables}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _evidence(w: World, name: str) -> list[EvidenceItem]:
    return [EvidenceItem(w.store.put(name, photo(name, 3)), name)]


def _close(session: Session, w: World, order: RectificationOrder, now: datetime) -> None:
    actor = session.get(Person, order.responsible_person_id)
    assert actor is not None
    respond(
        session=session, order=order, actor=actor, now=now, note="已整改", evidence=_evidence(w, "fix.png")
    )
    verify(session=session, order=order, actor=w.office, now=now, accept=True, reason="")
    session.commit()


def _refusal(session: Session, project: Project, to: str, actor: Person, now: datetime) -> list[str]:
    with pytest.raises(TransitionRefused) as refused:
        apply_transition(session=session, project=project, to=to, actor=actor, now=now)
    session.rollback()
    return refused.value.reasons


def test_a_filled_form_records_unsigned_with_its_computed_score(session: Session, w: World) -> None:
    def score_8_and_place_a_photo(data: dict[str, Any], _: Path) -> None:
        data["results"]["workmanship"]["value"] = 8
        data["results"]["site_photos"]["evidence"][0].update(taken_at="2026-12-02T09:40", gps=[22.8, 108.3])

    inspection = _record(session, w, _form(session, w, "in-progress", edit=score_8_and_place_a_photo))
    assert (inspection.kind, inspection.score_tenths, inspection.outcome) == ("in_progress", 980, "pass")
    assert (inspection.inspected_at, inspection.signed_at, inspection.follow_up_of_id) == (AT, None, None)
    counts = _counts(session)
    tables = ("inspection_item_result", "inspection_inspector", "evidence_file")
    assert [counts[t] for t in tables] == [10, 2, 3]
    first = session.exec(select(EvidenceAttachment).order_by(col(EvidenceAttachment.id))).first()
    assert first is not None and (first.original_name, first.taken_at, first.latitude, first.longitude) == (
        "site_photos-0.png", datetime(2026, 12, 2, 1, 40, tzinfo=UTC), 22.8, 108.3
    )  # fmt: skip
    assert len(_files(w.store.root)) == 3
    # Too few photos is not an error: the evidence item fails and costs its weight.
    short = _form(session, w, "in-progress", edit=lambda d, _: d["results"]["site_photos"]["evidence"].pop())
    card = record_inspection_form(session=session, path=short, evidence=w.store, actor=w.team[0], now=AT).card
    assert (card.score, card.outcome) == (95, "pass_with_rectification")
    assert [(f.item_key, f.severity) for f in card.findings] == [("site_photos", "minor")]


def _attach(name: str, content: bytes) -> Edit:
    """One more site photo after the good ones: the good ones must not be stored either."""
    return lambda d, folder: d["results"]["site_photos"]["evidence"].append(_photo(folder, name, content))


PNG = photo("real", 1)
BIDI = "photo\u202egnp.jpg"
REFUSED = "evidence file '{}' refused: the "
BAD_FORMS: dict[str, tuple[str, Edit, type[Exception], str]] = {
    "unknown item": ("in-progress", lambda d, _: d["results"].update(roof={"passed": True}), SourceError,
        "{path}:{roof}: results.roof: unknown item 'roof' in template in-progress"),
    "score out of range": ("in-progress", lambda d, _: d["results"]["workmanship"].update(value=11),
        ResultError, "item 'workmanship': score 11 is outside 0..10"),
    "too large": ("in-progress", _attach("big.png", PNG + bytes(5000 - len(PNG))), EvidenceRejected,
        REFUSED.format("big.png") + "file is 4.9 KB (5,000 bytes), over the 1 KB limit"),
    "extension lies": ("in-progress", _attach("scan.jpg", PNG), EvidenceRejected,
        REFUSED.format("scan.jpg") + "extension .jpg does not match the content, which is a PNG image"),
    "not an image": ("in-progress", _attach("a.png", b"not an image"), EvidenceRejected,
        REFUSED.format("a.png") + "content is not a recognised type (starts with 6e 6f 74 20 61 6e 20 69); "
        "allowed: JPEG image, PDF document, PNG image, WebP image"),
    "control character": ("in-progress", _attach(BIDI, PNG), EvidenceRejected,
        REFUSED.format("photo\\u202egnp.jpg") + "file name contains a control character '\\u202e'"),
    "one acceptance inspector": ("acceptance", lambda d, _: d["inspectors"].pop(), InspectionRefused,
        "{path}: template acceptance needs at least 2 inspectors"),
    "not an inspector": ("in-progress", lambda d, _: d["inspectors"].append("和平村专干"), InspectionRefused,
        "{path}: 和平村专干 is not an inspector or office member"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_FORMS)
def test_a_bad_form_is_refused_clearly_and_stores_nothing(session: Session, w: World, case: str) -> None:
    template_key, edit, error, message = BAD_FORMS[case]
    path = _form(session, w, template_key, edit=edit)
    lines = path.read_text(encoding="utf-8").splitlines()
    roof = lines.index("  roof:") + 1 if "  roof:" in lines else None
    before = _counts(session)
    store = EvidenceStore(w.store.root, max_bytes=1024)
    with pytest.raises(error) as raised:
        record_inspection_form(session=session, path=path, evidence=store, actor=w.team[0], now=AT)
    assert str(raised.value) == message.format(path=path, roof=roof)
    assert _counts(session) == before and before["inspection"] == 0
    assert _files(w.store.root) == []
    session.rollback()


def test_evidence_paths_resolve_from_the_form_folder(session: Session, w: World) -> None:
    (w.folder / "sub").mkdir()
    (w.folder / "sub" / "inside.png").write_bytes(photo("inside", 6))
    (w.folder.parent / "outside.png").write_bytes(photo("outside", 7))
    (w.folder / "link.png").symlink_to(w.folder.parent / "outside.png")

    def refer(name: str) -> Edit:
        return lambda data, _: data["results"]["site_photos"]["evidence"].append({"file": name})

    def refused(name: str, reason: str) -> None:
        form = _form(session, w, "in-progress", edit=refer(name))
        line = next(n for n, t in enumerate(form.read_text().splitlines(), 1) if name in t)
        message = f"{form}:{line}: results.site_photos.evidence[3].file: {reason}"
        _refused(session, SourceError, lambda: _record(session, w, form), message)

    refused("sub/missing.png", "no such file: sub/missing.png")
    refused(
        "sub/../../outside.png", f"sub/../../outside.png is outside the form's folder ({w.folder.resolve()})"
    )
    outside = str(w.folder.parent / "outside.png")
    refused(outside, f"{outside} is an absolute path: name a file in the form's folder")
    refused("link.png", "link.png is a symbolic link: give the file itself")
    _record(session, w, _form(session, w, "in-progress", edit=refer("sub/../sub/inside.png")))
    names = session.exec(select(EvidenceAttachment.original_name).order_by(col(EvidenceAttachment.id))).all()
    assert names[-1] == "inside.png"  # only the plain name is kept; stored files are named by SHA-256
    assert all(len(p.name) == 64 and p.parent.parent == w.store.root for p in _files(w.store.root))


def _due(start: datetime, working_days: int) -> datetime:
    day = CALENDAR.add_working_days(start.astimezone(LOCAL_TZ).date(), working_days)
    return datetime.combine(day, time(17, 30), tzinfo=LOCAL_TZ)


def test_signing_issues_an_order_per_failed_item_due_in_working_days(session: Session, w: World) -> None:
    waive = lambda d, _: d["results"]["warning_signs"].update(waived=True, notes="被遮挡")  # noqa: E731
    path = _form(session, w, "in-progress", fail=("earmark", "safety_protection", "site_log"), edit=waive)
    inspection = _record(session, w, path)
    assert (inspection.score_tenths, inspection.outcome) == (632, "fail")  # 60 of 95 points
    assert _orders(session, w.proj) == {}  # recording alone issues nothing
    done = _sign(session, w, inspection)
    assert (inspection.signed_at, inspection.signed_by_id) == (AT, w.team[0].id)
    orders = _orders(session, w.proj)
    assert [o.id for o in done.signed.issued] == [o.id for o in orders.values()]
    assert {key: (o.severity, o.responsible_person_id, o.due_at, o.status) for key, o in orders.items()} == {
        "earmark": ("critical", w.leader.id, _due(AT, 5), "issued"),  # the template says: leader
        "safety_protection": ("major", w.specialist.id, _due(AT, 10), "issued"),
        "site_log": ("minor", w.specialist.id, _due(AT, 20), "issued"),
    }
    assert orders["earmark"].due_at == datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
    assert orders["site_log"].due_at == datetime(2026, 12, 30, 17, 30, tzinfo=LOCAL_TZ)
    assert orders["earmark"].description == "资金使用符合专款专用:不符合要求"
    events = [(e.action, e.inspection_id) for e in _events(session, orders["earmark"])]
    assert events == [("issued", inspection.id)]
    assert list(_results(session, inspection, "waived")) == ["warning_signs"]
    assert len(_results(session, inspection, "passed")) == 6


def test_only_listed_inspectors_sign_once_and_signed_rows_are_immutable(session: Session, w: World) -> None:
    draft = _record(session, w, _form(session, w, "in-progress"))
    same_draft: Edit = lambda d, _: d.update(inspection=draft.id)  # noqa: E731
    redo = _form(session, w, "in-progress", fail=("site_log",), edit=same_draft)
    assert _record(session, w, redo).id == draft.id  # a draft is replaced, not duplicated
    assert [_counts(session)[t] for t in ("inspection", "inspection_item_result")] == [1, 10]
    assert (draft.score_tenths, draft.outcome) == (950, "pass_with_rectification")
    message = f"督查员3 did not carry out inspection {draft.id}: only its inspectors sign"
    _refused(session, InspectionRefused, lambda: _sign(session, w, draft, actor=w.outsider), message)
    assert len(_sign(session, w, draft, actor=w.team[1]).signed.issued) == 1
    assert draft.signed_by_id == w.team[1].id
    message = f"inspection {draft.id} is already signed"
    _refused(session, InspectionRefused, lambda: _sign(session, w, draft), message)
    message = f"{redo}: inspection {draft.id} is signed and immutable: "
    message += f"record a correction with `supersedes: {draft.id}`"
    _refused(session, InspectionRefused, lambda: _record(session, w, redo), message)
    for statement in (
        "UPDATE inspection SET notes = 'edited' WHERE id = :id",
        "DELETE FROM inspection WHERE id = :id",
        "UPDATE inspection_item_result SET verdict = 'passed' WHERE inspection_id = :id",
        "DELETE FROM inspection_item_result WHERE inspection_id = :id",
    ):
        with pytest.raises(DBAPIError, match="inspection is signed and immutable"):
            session.execute(text(statement), {"id": draft.id})
        session.rollback()
    assert list(_results(session, draft, "failed")) == ["site_log"]


def test_a_correction_withdraws_orders_of_passing_items_and_guards_read_it(
    session: Session, w: World
) -> None:
    later = AT + timedelta(days=1)
    builders.documents(session, w.proj, "site_plan", "land_approval", "design", "budget")
    apply_transition(session=session, project=w.proj, to="pre_review", actor=w.office, now=T0)
    session.commit()
    original = _record(session, w, _form(session, w, "pre-review", fail=("site_selection", "budget")))
    assert _refusal(session, w.proj, "approved", w.office, AT) == ["no signed pre-review inspection"]
    _sign(session, w, original)
    not_passed = [f"the latest pre-review inspection (#{original.id}) did not pass: fail"]
    assert _refusal(session, w.proj, "approved", w.office, AT) == not_passed
    issued = {key: order.id for key, order in _orders(session, w.proj).items()}
    supersede: Edit = lambda d, _: d.update(supersedes=original.id)  # noqa: E731
    fix = _form(session, w, "pre-review", fail=("budget",), at=later, edit=supersede)
    correction = _record(session, w, fix, now=later)
    assert (correction.supersedes_id, correction.score_tenths, correction.outcome) == (
        original.id, 900, "pass_with_rectification"
    )  # fmt: skip
    assert _refusal(session, w.proj, "approved", w.office, later) == not_passed  # unsigned: not yet
    done = _sign(session, w, correction, now=later).signed
    assert ([o.id for o in done.closed], [o.id for o in done.kept_open], done.issued) == (
        [issued["site_selection"]], [issued["budget"]], []
    )  # fmt: skip
    orders = _orders(session, w.proj)  # no duplicate for the item that still fails
    assert {key: (o.id, o.status) for key, o in orders.items()} == {
        "site_selection": (issued["site_selection"], "closed"), "budget": (issued["budget"], "issued")
    }  # fmt: skip
    events = [(e.action, e.reason, e.inspection_id) for e in _events(session, orders["site_selection"])]
    assert events == [("issued", "", original.id), ("withdrawn", "corrected inspection", correction.id)]
    apply_transition(session=session, project=w.proj, to="approved", actor=w.office, now=later)
    session.commit()
    assert w.proj.stage == "approved"
    again = _form(session, w, "pre-review", at=later, edit=supersede)
    message = f"{again}: inspection {original.id} already has a correction"
    _refused(session, InspectionRefused, lambda: _record(session, w, again, now=later), message)


def _re_inspection(session: Session, w: World, of: Inspection, at: datetime, fail: tuple[str, ...]) -> Path:
    carried, kind = _results(session, of, "failed"), InspectionKind.RE_INSPECTION
    return _form(session, w, "in-progress", fail=fail, at=at, kind=kind, follow_up_of=of.id, carried=carried)


def test_a_re_inspection_closes_the_orders_of_items_that_now_pass(session: Session, w: World) -> None:
    later = AT + timedelta(days=7)
    original = _signed(session, w, "in-progress", fail=("safety_protection", "site_log"))
    issued = {key: order.id for key, order in _orders(session, w.proj).items()}
    path = _re_inspection(session, w, original, later, fail=("site_log",))
    form = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert (form["kind"], form["follow_up_of"], list(form["results"])) == (
        "re_inspection", original.id, ["site_log", "safety_protection"]
    )  # fmt: skip
    recheck = _record(session, w, path, now=later)
    assert (recheck.kind, recheck.follow_up_of_id, recheck.score_tenths, recheck.outcome) == (
        "re_inspection", original.id, 667, "fail"
    )  # fmt: skip  # 10 of the 15 points looked at again
    assert {r.notes for r in _results(session, recheck, "waived").values()} == {"not re-inspected"}
    assert len(_results(session, recheck, "waived")) == 8
    done = _sign(session, w, recheck, now=later).signed
    assert ([o.id for o in done.closed], [o.id for o in done.kept_open], done.issued) == (
        [issued["safety_protection"]], [issued["site_log"]], []
    )  # fmt: skip
    orders = _orders(session, w.proj)
    assert {key: o.status for key, o in orders.items()} == {
        "site_log": "issued",
        "safety_protection": "closed",
    }
    events = [(e.action, e.inspection_id) for e in _events(session, orders["safety_protection"])]
    assert events == [("issued", original.id), ("closed_by_reinspection", recheck.id)]


def test_a_re_inspection_of_a_re_inspection_keeps_the_original_order(session: Session, w: World) -> None:
    previous = _signed(session, w, "in-progress", fail=("site_log",))
    order_id = _orders(session, w.proj)["site_log"].id
    for days in (7, 14):
        at = AT + timedelta(days=days)
        previous = _record(session, w, _re_inspection(session, w, previous, at, fail=("site_log",)), now=at)
        done = _sign(session, w, previous, now=at).signed
        assert (done.issued, [o.id for o in done.kept_open]) == ([], [order_id])


def test_a_correction_of_a_correction_withdraws_and_keeps_the_original_orders(
    session: Session, w: World
) -> None:
    first = _signed(session, w, "pre-review", fail=("budget", "dedicated_account"))
    original = _orders(session, w.proj)
    corrected = first
    for fail in (("budget", "dedicated_account"), ("budget",)):
        at = AT + timedelta(days=1 + len(fail))

        def supersede(d: dict[str, Any], _: Path, of: int | None = corrected.id) -> None:
            d.update(supersedes=of)

        corrected = _signed(session, w, "pre-review", fail=fail, edit=supersede, at=at)
    orders = session.exec(
        select(RectificationOrder).where(col(RectificationOrder.project_id) == w.proj.id)
    ).all()
    assert sorted((o.item_key, o.status) for o in orders) == [
        ("budget", "issued"),
        ("dedicated_account", "closed"),
    ]
    assert {o.id for o in orders} == {
        original["budget"].id,
        original["dedicated_account"].id,
    }  # no duplicates
    assert [e.action for e in _events(session, original["dedicated_account"])][-1] == "withdrawn"


def test_an_order_is_answered_with_evidence_and_verified_by_the_office(session: Session, w: World) -> None:
    later = AT + timedelta(days=3)
    _signed(session, w, "in-progress", fail=("safety_protection",))
    order = _orders(session, w.proj)["safety_protection"]
    n = order.id

    def answer(actor: Person, evidence: list[EvidenceItem] | None = None) -> OrderEvent:
        fix = _evidence(w, "fix.png") if evidence is None else evidence
        return respond(session=session, order=order, actor=actor, now=later, note="已整改", evidence=fix)

    def check(actor: Person, accept: bool, reason: str = "") -> OrderEvent:
        return verify(session=session, order=order, actor=actor, now=later, accept=accept, reason=reason)

    _refused(session, OrderRefused, lambda: answer(w.leader), f"和平村领导 is not responsible for order {n}")
    message = f"order {n}: a response needs at least one evidence file"
    _refused(session, OrderRefused, lambda: answer(w.specialist, []), message)
    message = f"order {n} is issued: only a responded order can be verified"
    _refused(session, OrderRefused, lambda: check(w.office, True), message)
    event = answer(w.specialist)
    session.commit()
    names = select(EvidenceAttachment.original_name).where(col(EvidenceAttachment.order_event_id) == event.id)
    assert (order.status, session.exec(names).all()) == ("responded", ["fix.png"])
    message = f"order {n} is responded: only an issued order takes a response"
    _refused(session, OrderRefused, lambda: answer(w.specialist), message)
    message = f"和平村专干 is not office or inspector: cannot verify order {n}"
    _refused(session, OrderRefused, lambda: check(w.specialist, True), message)
    message = f"order {n}: a rejection needs a reason"
    _refused(session, OrderRefused, lambda: check(w.office, False, "  "), message)
    check(w.office, False, "照片看不清")
    session.commit()
    assert (order.status, order.closed_at) == ("issued", None)
    answer(w.office)  # the office may answer on the project's behalf
    check(w.team[1], True)
    session.commit()
    assert (order.status, order.closed_at) == ("closed", later)
    assert [(e.action, e.reason) for e in _events(session, order)] == [
        ("issued", ""), ("responded", "已整改"), ("rejected", "照片看不清"),
        ("responded", "已整改"), ("verified", ""),
    ]  # fmt: skip
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE order_event SET reason = 'edited'"))
    session.rollback()


def test_list_orders_filters_open_and_overdue_at_the_time_given(session: Session, w: World) -> None:
    _signed(session, w, "in-progress", fail=("earmark", "site_log"))
    orders = _orders(session, w.proj)
    due, late = orders["earmark"].due_at, orders["earmark"].due_at + timedelta(minutes=1)

    def rows(now: datetime, **filters: Any) -> list[tuple[str, str, bool]]:
        return [(r.item_key, r.status, r.overdue) for r in list_orders(session=session, now=now, **filters)]

    assert rows(due, overdue_only=True) == []  # due at 17:30 is not overdue at 17:30
    assert rows(late, open_only=True) == [("earmark", "issued", True), ("site_log", "issued", False)]
    assert rows(late, overdue_only=True) == [("earmark", "issued", True)]
    row = list_orders(session=session, now=late, overdue_only=True).all()[0]
    assert (row.project_code, row.village, row.responsible_name) == ("P001", "和平村", "和平村领导")
    _close(session, w, orders["earmark"], late)
    assert rows(late, overdue_only=True) == []
    assert rows(late, open_only=True) == [("site_log", "issued", False)]
    assert rows(late, project_id=w.proj.id) == [("earmark", "closed", False), ("site_log", "issued", False)]
    after_due = orders["site_log"].due_at + timedelta(seconds=1)
    assert rows(after_due, overdue_only=True) == [("site_log", "issued", True)]


def _advance(session: Session, w: World, stages: list[str], start: datetime) -> None:
    for day, stage in enumerate(stages, 1):
        at = start + timedelta(days=day)
        apply_transition(session=session, project=w.proj, to=stage, actor=w.office, now=at)
    session.commit()


def test_failed_acceptance_reopens_construction_and_open_orders_block(session: Session, w: World) -> None:
    kinds = ("site_plan", "land_approval", "design", "budget", "construction_contract", "completion_report")
    builders.documents(session, w.proj, *kinds)
    builders.signed_inspection(session, w.proj, "pre-review", w.team, at=T0, store=w.store)
    _advance(session, w, ["pre_review", "approved", "in_construction", "completed", "acceptance"], T0)
    failed = _record(session, w, _form(session, w, "acceptance", fail=("structure_complete",)))
    done = _sign(session, w, failed)
    order = _orders(session, w.proj)["structure_complete"]
    event = history(session=session, project_id=w.proj.id)[-1]
    assert done.transition is not None
    assert (failed.outcome, w.proj.stage, done.transition.id) == ("fail", "in_construction", event.id)
    assert (event.from_stage, event.to_stage, event.actor_name, event.occurred_at) == (
        "acceptance", "in_construction", "督查员1", AT
    )  # fmt: skip
    assert event.reason == f"验收不合格 acceptance failed (inspection #{failed.id}, 1 orders)"
    _advance(session, w, ["completed", "acceptance"], AT)
    later = AT + timedelta(days=3)
    passed = _record(session, w, _form(session, w, "acceptance", at=later), now=later)
    assert _sign(session, w, passed, now=later).transition is None
    assert (passed.outcome, w.proj.stage) == ("pass", "acceptance")
    open_order = [f"1 rectification order(s) still open: #{order.id}"]
    assert _refusal(session, w.proj, "accepted", w.office, later) == open_order
    _close(session, w, order, later)
    apply_transition(session=session, project=w.proj, to="accepted", actor=w.office, now=later)
    session.commit()
    assert w.proj.stage == "accepted"


def test_a_spot_check_draw_is_recorded_and_replayable(session: Session, w: World, engine: Engine) -> None:
    now, seed = AT + timedelta(days=18), 20261220
    clean, never = builders.project(session, w.prog, "团结村"), builders.project(session, w.prog, "友谊村")
    _signed(session, w, "in-progress", fail=("earmark",))
    builders.signed_inspection(
        session, clean, "in-progress", w.team, at=now - timedelta(days=2), store=w.store
    )
    session.commit()
    before = _counts(session)
    assert w.prog.id is not None
    draws = [
        draw_spot_check(session=session, programme_id=w.prog.id, count=2, seed=seed, actor=w.office, now=now)
        for _ in range(2)
    ]
    session.commit()
    assert _counts(session) == {**before, "spot_check_draw": before["spot_check_draw"] + 2}
    record = draws[0]
    assert (record.seed, record.count, record.drawn_by_id, record.drawn_at) == (seed, 2, w.office.id, now)
    weights = {int(pid): entry for pid, entry in record.weights.items()}
    assert set(weights) == {w.proj.id, clean.id, never.id}
    assert weights[w.proj.id]["reasons"] == [
        "base +1.0", "1 open order +1.0", "1 overdue order +2.0", "last score 80 +1.0",
        "18 days since last visit +0.6", "19 days behind plan +2.71",
    ]  # fmt: skip
    clean_reasons = ["base +1.0", "2 days since last visit +0.07", "19 days behind plan +2.71"]
    assert weights[clean.id]["reasons"] == clean_reasons
    assert weights[w.proj.id]["weight"] > weights[clean.id]["weight"]
    drawn = record.drawn_project_ids
    assert len(set(drawn)) == 2 and set(drawn) <= set(weights)
    assert draws[1].drawn_project_ids == drawn == replay(record)  # the same seed on the same data
    with Session(engine) as fresh:
        stored = fresh.get(SpotCheckDraw, record.id)
        assert stored is not None and (stored.drawn_project_ids, replay(stored)) == (drawn, drawn)
