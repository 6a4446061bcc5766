"""What a login may see, as a condition every read applies in SQL.

A leader or specialist sees the projects they answer for; a town's staff see their town's; the
office, leadership, inspectors, auditors and admins see every project. What is out of scope is
filtered in the query itself, so it is never shown, never counted and answers 404 like something
that does not exist. Spot-check draws (四不两直) are the office's alone, before and after the visit.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, literal, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.kinds import SINGLE_HOLDER_ROLES
from models.people import RoleAssignment
from models.places import Place, PlaceKind
from models.programmes import Project


@dataclass(frozen=True)
class Scope:
    """Which projects (and so which inspections, orders, deadlines, notices) a login may see."""

    # Every project, and the programme's own obligations (cadences) with them.
    everything: bool = False
    # The projects of this town (乡镇), by its name.
    town: str | None = None
    # The projects this person holds the leader or specialist role of, now.
    person_id: int | None = None
    # Spot-check draws: the supervision office only.
    sees_draws: bool = False

    def projects(self, project_id: Any) -> ColumnElement[bool]:
        """The condition "the project with id ``project_id`` is in scope" (a subquery, never a list)."""
        if self.everything:
            return true()
        if self.person_id is not None:
            answers = select(col(RoleAssignment.project_id)).where(
                col(RoleAssignment.person_id) == self.person_id,
                col(RoleAssignment.role).in_([role.value for role in SINGLE_HOLDER_ROLES]),
                col(RoleAssignment.project_id).is_not(None),
                col(RoleAssignment.revoked_at).is_(None),
            )
            return project_id.in_(answers)  # type: ignore[no-any-return]
        if self.town is not None:
            # Aliases: the outer query is often on project itself, and must not correlate with this.
            project, village, town = aliased(Project), aliased(Place), aliased(Place)
            in_town = (
                select(col(project.id))
                .join(village, col(village.id) == col(project.village_id))
                .join(town, col(town.id) == col(village.parent_id))
                .where(col(town.kind) == PlaceKind.TOWN, col(town.name) == self.town)
            )
            return project_id.in_(in_town)  # type: ignore[no-any-return]
        return false()

    def sees(self, session: Session, project_id: int | None) -> bool:
        """Whether one project (None: a programme's own obligation) is in scope: one small query."""
        if self.everything:
            return True
        if project_id is None:
            return False
        found = session.execute(select(literal(1)).where(self.projects(literal(project_id)))).first()
        return found is not None


# Every project and every draw: the CLI (whose user is whoever holds the database) and the jobs.
EVERYTHING = Scope(everything=True, sees_draws=True)
NOTHING = Scope()
