"""Programmes: create one with its budget per funding source and milestones; find one by name or id."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from models import FundingSource, PlaceKind, Programme, ProgrammeMilestone
from models.errors import NotFound, Refused, candidates
from models.text import reference
from workflows.definition import get_definition
from workflows.people import SHOWN_MATCHES, ensure_place


@dataclass(frozen=True)
class FundingSourceSpec:
    code: str
    name: str
    amount_fen: int


def create_programme(
    *,
    session: Session,
    name: str,
    district: str,
    definition_key: str,
    sources: Sequence[FundingSourceSpec],
    milestones: Mapping[str, date],
    earmark: str,
    now: datetime,
    illustrative: bool = False,
) -> Programme:
    """Create a programme with its budget per funding source and its milestone dates."""
    if session.exec(select(Programme.id).where(col(Programme.name) == name)).first() is not None:
        raise Refused(f"programme {name!r} already exists")
    definition = get_definition(session=session, key=definition_key)
    for key in milestones:
        if definition.milestone(key) is None:
            known = ", ".join(m.key for m in definition.milestones)
            raise Refused(f"workflow {definition_key} has no milestone {key!r} (milestones: {known})")
    if not sources:
        raise Refused("a programme needs at least one funding source")
    district_place = ensure_place(session=session, kind=PlaceKind.DISTRICT, name=district, parent_id=None)
    programme = Programme(
        name=name,
        district_id=district_place.id,  # type: ignore[arg-type]
        definition_key=definition_key,
        earmark=earmark,
        illustrative=illustrative,
        created_at=now,
    )
    session.add(programme)
    session.flush()
    for position, source in enumerate(sources):
        session.add(
            FundingSource(
                programme_id=programme.id,  # type: ignore[arg-type]
                code=source.code,
                name=source.name,
                amount_fen=source.amount_fen,
                position=position,
            )
        )
    for key, due in milestones.items():
        session.add(ProgrammeMilestone(programme_id=programme.id, key=key, due_date=due))  # type: ignore[arg-type]
    session.flush()
    return programme


def programme_named(*, session: Session, name: str) -> Programme | None:
    """The programme of that exact name, if there is one."""
    return session.exec(select(Programme).where(col(Programme.name) == name)).first()


def find_programme(*, session: Session, ref: str | None) -> Programme:
    """A programme by id or name; with no ref, the only programme there is."""
    if ref is None:
        first = list(
            session.exec(select(Programme).order_by(col(Programme.id)).limit(SHOWN_MATCHES + 1)).all()
        )
        if len(first) == 1:
            return first[0]
        if not first:
            raise NotFound("there is no programme yet (run `ducha demo` or `ducha programmes create`)")
        total = session.exec(select(func.count()).select_from(Programme)).one()
        names = candidates((p.name for p in first), total=total)
        raise NotFound(f"several programmes exist ({names}): name one with --programme")
    ref = reference(ref, field="programme")
    query = select(Programme).where(
        or_(
            col(Programme.name) == ref,
            col(Programme.id) == (int(ref) if ref.isdecimal() and len(ref) < 10 else -1),
        )
    )
    programme = session.exec(query).first()
    if programme is None:
        raise NotFound(f"no programme {ref!r}")
    return programme


def funding_sources(*, session: Session, programme_id: int) -> list[FundingSource]:
    return list(
        session.exec(
            select(FundingSource)
            .where(col(FundingSource.programme_id) == programme_id)
            .order_by(col(FundingSource.position))
        ).all()
    )


def milestones(*, session: Session, programme_id: int) -> list[ProgrammeMilestone]:
    return list(
        session.exec(
            select(ProgrammeMilestone)
            .where(col(ProgrammeMilestone.programme_id) == programme_id)
            .order_by(col(ProgrammeMilestone.due_date))
        ).all()
    )
