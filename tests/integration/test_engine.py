"""Lifecycle transitions: legal, illegal, guards, roles, suspend/resume, conflicts, pinned versions."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from inspections.evidence import EvidenceStore
from models import Person, Programme, Project, WorkflowEvent
from tests import builders
from tests.builders import T0
from workflows.definition import BUILTIN_DIR, DefinitionConflict, load_definition
from workflows.engine import (
    TransitionRefused,
    VersionConflict,
    apply_transition,
    available_transitions,
)
from workflows.projects import find_project, history


def _setup(session: Session) -> tuple[Project, Person, Person]:
    prog = builders.programme(session)
    specialist = builders.person(session, "专干甲")
    proj = builders.project(session, prog, specialist=specialist)
    office = builders.office_member(session)
    session.commit()
    return proj, specialist, office


def _stages(session: Session, project_id: int) -> list[tuple[str | None, str]]:
    return [(e.from_stage, e.to_stage) for e in history(session=session, project_id=project_id)]


def test_full_lifecycle_records_every_event_and_dates(session: Session, tmp_path: Path) -> None:
    proj, specialist, office = _setup(session)
    team = builders.inspectors(session)
    store = EvidenceStore(tmp_path / "evidence")
    at = T0
    steps = [
        (("site_plan", "land_approval"), "pre_review", specialist),
        (("design", "budget"), "approved", office),
        (("construction_contract",), "in_construction", specialist),
        ((), "completed", specialist),
        (("completion_report",), "acceptance", specialist),
        ((), "accepted", office),
        (("final_accounts",), "closed", office),
    ]
    for kinds, stage, actor in steps:
        at += timedelta(days=3)
        builders.documents(session, proj, *kinds, at=at)
        checklist = {"approved": "pre-review", "accepted": "acceptance"}.get(stage)
        if checklist:
            builders.signed_inspection(session, proj, checklist, team, at=at, store=store)
        apply_transition(session=session, project=proj, to=stage, actor=actor, now=at, reason=f"to {stage}")
        session.commit()
    assert proj.stage == "closed"
    assert proj.version == 1 + len(steps)
    assert proj.actual_start == (T0 + timedelta(days=9)).date()
    assert proj.actual_finish == (T0 + timedelta(days=12)).date()
    assert _stages(session, proj.id) == [
        (None, "proposed"),
        ("proposed", "pre_review"),
        ("pre_review", "approved"),
        ("approved", "in_construction"),
        ("in_construction", "completed"),
        ("completed", "acceptance"),
        ("acceptance", "accepted"),
        ("accepted", "closed"),
    ]
    last = history(session=session, project_id=proj.id)[-1]
    assert (last.actor_name, last.reason, last.occurred_at) == (office.name, "to closed", at)


def test_refusal_lists_every_unmet_guard_in_words_and_writes_nothing(
    session: Session, engine: Engine
) -> None:
    proj, specialist, office = _setup(session)
    outsider = builders.person(session, "路人")
    session.commit()
    with pytest.raises(TransitionRefused) as refused:
        apply_transition(
            session=session, project=proj, to="pre_review", actor=outsider, now=T0 + timedelta(days=1)
        )
    session.rollback()
    assert refused.value.reasons == [
        "路人 is not specialist or leader or office for P001",
        "required document not recorded: site_plan, land_approval",
    ]
    builders.documents(session, proj, "site_plan")
    session.commit()
    with pytest.raises(TransitionRefused) as refused:
        apply_transition(
            session=session, project=proj, to="pre_review", actor=specialist, now=T0 + timedelta(days=1)
        )
    session.rollback()
    assert refused.value.reasons == ["required document not recorded: land_approval"]
    with Session(engine) as fresh:
        stored = fresh.get(Project, proj.id)
        assert stored is not None and (stored.stage, stored.version) == ("proposed", 1)
        assert _stages(fresh, proj.id) == [(None, "proposed")]


def test_illegal_and_unknown_targets_say_what_is_allowed(session: Session) -> None:
    proj, specialist, _ = _setup(session)
    with pytest.raises(
        TransitionRefused,
        match=r"no transition from proposed to accepted \(allowed next: pre_review, suspended\)",
    ):
        apply_transition(session=session, project=proj, to="accepted", actor=specialist, now=T0)
    with pytest.raises(TransitionRefused, match=r"unknown stage 'built'"):
        apply_transition(session=session, project=proj, to="built", actor=specialist, now=T0)


def test_reason_required_and_time_cannot_run_backwards(session: Session) -> None:
    proj, specialist, office = _setup(session)
    builders.documents(session, proj, "site_plan", "land_approval")
    apply_transition(
        session=session, project=proj, to="pre_review", actor=specialist, now=T0 + timedelta(days=2)
    )
    session.commit()
    with pytest.raises(TransitionRefused) as refused:
        apply_transition(
            session=session, project=proj, to="rejected", actor=office, now=T0 + timedelta(days=1)
        )
    assert refused.value.reasons[0] == "a reason is required"
    assert "is before the last recorded event" in refused.value.reasons[1]
    session.rollback()
    apply_transition(
        session=session,
        project=proj,
        to="rejected",
        actor=office,
        now=T0 + timedelta(days=3),
        reason="选址不符合规划",
    )
    session.commit()
    with pytest.raises(TransitionRefused, match="allowed next: none: the stage is terminal"):
        apply_transition(
            session=session, project=proj, to="proposed", actor=office, now=T0 + timedelta(days=4)
        )


def test_suspend_and_resume_to_the_stage_left(session: Session, tmp_path: Path) -> None:
    proj, specialist, office = _setup(session)
    builders.documents(session, proj, "site_plan", "land_approval", "design", "budget")
    builders.signed_inspection(
        session, proj, "pre-review", builders.inspectors(session), at=T0, store=EvidenceStore(tmp_path)
    )
    apply_transition(
        session=session, project=proj, to="pre_review", actor=specialist, now=T0 + timedelta(days=1)
    )
    apply_transition(session=session, project=proj, to="approved", actor=office, now=T0 + timedelta(days=2))
    session.commit()
    with pytest.raises(TransitionRefused, match="a reason is required"):
        apply_transition(
            session=session, project=proj, to="suspended", actor=office, now=T0 + timedelta(days=3)
        )
    session.rollback()
    with pytest.raises(TransitionRefused, match="专干甲 is not office or leader"):
        apply_transition(
            session=session,
            project=proj,
            to="suspended",
            actor=specialist,
            now=T0 + timedelta(days=3),
            reason="x",
        )
    session.rollback()
    apply_transition(
        session=session,
        project=proj,
        to="suspended",
        actor=office,
        now=T0 + timedelta(days=3),
        reason="土地纠纷",
    )
    session.commit()
    assert (proj.stage, proj.resume_stage) == ("suspended", "approved")
    options = available_transitions(session=session, project=proj, now=T0 + timedelta(days=4), actor=office)
    assert [(o.to, o.ready) for o in options] == [("approved", True)]
    apply_transition(session=session, project=proj, to="resume", actor=office, now=T0 + timedelta(days=5))
    session.commit()
    assert (proj.stage, proj.resume_stage) == ("approved", None)
    assert _stages(session, proj.id)[-2:] == [("approved", "suspended"), ("suspended", "approved")]
    with pytest.raises(TransitionRefused, match="P001 is not suspended"):
        apply_transition(session=session, project=proj, to="resume", actor=office, now=T0 + timedelta(days=6))


def test_failed_acceptance_returns_to_construction(session: Session, tmp_path: Path) -> None:
    proj, specialist, office = _setup(session)
    builders.signed_inspection(
        session, proj, "pre-review", builders.inspectors(session), at=T0, store=EvidenceStore(tmp_path)
    )
    builders.documents(
        session,
        proj,
        "site_plan",
        "land_approval",
        "design",
        "budget",
        "construction_contract",
        "completion_report",
    )
    for day, (stage, actor) in enumerate(
        [
            ("pre_review", specialist),
            ("approved", office),
            ("in_construction", specialist),
            ("completed", specialist),
            ("acceptance", specialist),
        ],
        start=1,
    ):
        apply_transition(session=session, project=proj, to=stage, actor=actor, now=T0 + timedelta(days=day))
    apply_transition(
        session=session,
        project=proj,
        to="in_construction",
        actor=office,
        now=T0 + timedelta(days=9),
        reason="验收不合格: 标识标牌未按五统一标准",
    )
    session.commit()
    assert proj.stage == "in_construction"
    assert _stages(session, proj.id)[-1] == ("acceptance", "in_construction")


def test_second_of_two_concurrent_transitions_fails_cleanly(engine: Engine, session: Session) -> None:
    proj, specialist, office = _setup(session)
    builders.documents(session, proj, "site_plan", "land_approval")
    session.commit()
    with Session(engine, expire_on_commit=False) as first, Session(engine, expire_on_commit=False) as second:
        mine = first.get(Project, proj.id)
        theirs = second.get(Project, proj.id)
        second.commit()  # end the read; the stale object is what a slow user holds
        assert mine is not None and theirs is not None
        apply_transition(
            session=first,
            project=mine,
            to="pre_review",
            actor=first.merge(specialist),
            now=T0 + timedelta(days=1),
        )
        first.commit()
        with pytest.raises(VersionConflict, match="changed by someone else"):
            apply_transition(
                session=second,
                project=theirs,
                to="suspended",
                actor=second.merge(office),
                now=T0 + timedelta(days=1),
                reason="冲突",
            )
        second.rollback()
    with Session(engine) as check:
        stored = check.get(Project, proj.id)
        assert stored is not None and (stored.stage, stored.version) == ("pre_review", 2)
        assert _stages(check, proj.id) == [(None, "proposed"), ("proposed", "pre_review")]


def test_history_is_append_only_in_the_database(session: Session) -> None:
    proj, _, _ = _setup(session)
    for statement in ("UPDATE workflow_event SET reason = 'edited'", "DELETE FROM workflow_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    events = session.exec(select(WorkflowEvent).where(col(WorkflowEvent.project_id) == proj.id)).all()
    assert [e.reason for e in events] == ["project created"]


def test_project_keeps_the_definition_version_it_started_with(session: Session, tmp_path: Path) -> None:
    proj, specialist, office = _setup(session)
    v2 = (BUILTIN_DIR / "village-venue.v2.yaml").read_text(encoding="utf-8")
    # Version 3 also wants a geological survey before pre-review (a guard more; version 2's guard is
    # kept as it was: a guard whose parameters change counts as dropped, so would need a reason).
    v3 = v2.replace("version: 2", "version: 3").replace(
        "documents: [site_plan, land_approval]\n",
        "documents: [site_plan, land_approval]\n"
        "      - guard: documents_recorded\n"
        "        documents: [geo_survey]\n",
        1,
    )
    assert v3.count("geo_survey") == 1
    load_definition(session=session, text=v3, source="village-venue.v3.yaml", now=T0)
    session.commit()
    prog = session.get(Programme, proj.programme_id)
    assert prog is not None
    newer = builders.project(session, prog, village="团结村")
    session.commit()
    assert (proj.definition_version, newer.definition_version) == (2, 3)
    builders.documents(session, proj, "site_plan", "land_approval")
    builders.documents(session, newer, "site_plan", "land_approval")
    session.commit()
    apply_transition(
        session=session, project=proj, to="pre_review", actor=specialist, now=T0 + timedelta(days=1)
    )
    with pytest.raises(TransitionRefused, match="required document not recorded: geo_survey"):
        apply_transition(
            session=session, project=newer, to="pre_review", actor=office, now=T0 + timedelta(days=1)
        )
    session.rollback()
    assert find_project(session=session, ref="P001").definition_version == 2


def test_changed_definition_under_the_same_version_is_refused(session: Session) -> None:
    v1 = (BUILTIN_DIR / "village-venue.v1.yaml").read_text(encoding="utf-8")
    assert load_definition(session=session, text=v1, source="again.yaml", now=T0).version == 1
    with pytest.raises(DefinitionConflict, match="already loaded with different content"):
        load_definition(session=session, text=v1 + "\n# edited\n", source="edited.yaml", now=T0)


def test_two_simultaneous_transitions_one_wins_one_conflicts(engine: Engine, session: Session) -> None:
    proj, specialist, office = _setup(session)
    builders.documents(session, proj, "site_plan", "land_approval")
    session.commit()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(name: str, to: str, actor: Person, reason: str) -> None:
        with Session(engine, expire_on_commit=False) as own:
            mine = own.get(Project, proj.id)
            assert mine is not None
            barrier.wait()
            try:
                apply_transition(
                    session=own,
                    project=mine,
                    to=to,
                    actor=own.merge(actor),
                    now=T0 + timedelta(days=1),
                    reason=reason,
                )
                own.commit()
                outcomes[name] = "applied"
            except VersionConflict:
                own.rollback()
                outcomes[name] = "conflict"

    threads = [
        threading.Thread(target=attempt, args=("submit", "pre_review", specialist, "")),
        threading.Thread(target=attempt, args=("suspend", "suspended", office, "暂停")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["applied", "conflict"]
    with Session(engine) as check:
        stored = check.get(Project, proj.id)
        assert stored is not None and stored.version == 2
        winner = "pre_review" if outcomes["submit"] == "applied" else "suspended"
        assert stored.stage == winner
        assert _stages(check, proj.id) == [(None, "proposed"), ("proposed", winner)]
