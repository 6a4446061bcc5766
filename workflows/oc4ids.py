"""A programme as an OC4IDS 0.9.5 project package (Open Contracting for Infrastructure Data Standard):
one project per village venue, for anyone to check against the standard's schema and review tool.

Each project gives its id (the publisher's registered prefix, DUCHA_OC4IDS_PREFIX, then
``<programme id>-<project code>``), title, status, planned period, location, the parties (funders,
the public authority, the review body, the village committee that pays, the vendors it pays), its
budget with two breakdowns that each add up exactly to it (by funding source; by fiscal year), the
disbursements to it (``transactions``), one contracting process per vendor with the payments to
that vendor, milestones from its deadlines, and its completion once accepted.

The status maps the workflow's stages onto the projectStatus codelist (``STATUS``; a stage of another
workflow maps by its phase). A suspended project has the status of the stage it will resume. As of a
past time (``--at``) a project has the stage it was in then (its workflow events), only the dates set
by then, the money that had moved by then and its deadlines as they stood then.

The budget by fiscal year (the calendar year in China) is the money allocated to the project in each
year, in the order it was allocated and never more than the budget in all; what is not allocated yet
is budgeted for the year the project is planned to finish.

The package never holds an empty value ("", [], {}): a field with nothing to say is left out. Amounts
are yuan, JSON numbers with two decimals written from integer fen (``Decimal``, never a float), each
with its currency (CNY).
"""

from datetime import datetime, time
from decimal import Decimal
from typing import Any, TextIO

from sqlmodel import Session

from models import Programme
from models.deadlines import DeadlineKind, DeadlineStatus
from models.errors import NotFound
from models.localtime import LOCAL_TZ, local, local_date
from workflows.definition import Phase, WorkflowDefinition, get_definition
from workflows.exact_json import Streamed, write_json
from workflows.oc4ids_facts import Movement, ProgrammeFacts, ProjectFacts, programme_facts

VERSION = "0.9"  # the package's "major.minor"; the schema is 0.9.5
CURRENCY = "CNY"
STATUS = {
    "proposed": "identification",
    "pre_review": "preparation",
    # Approved: the budget is authorised; procurement (the construction contract) is implementation.
    "approved": "implementation",
    "in_construction": "implementation",
    "completed": "completion",
    "acceptance": "completion",
    "accepted": "completion",
    # Closed (结项): the final accounts are done, the venue is in use.
    "closed": "maintenance",
    "rejected": "cancelled",
}
BY_PHASE = {
    Phase.BEFORE: "preparation",
    Phase.DURING: "implementation",
    Phase.AFTER: "completion",
    Phase.ENDED: "cancelled",
}
MILESTONE_TYPE = {
    DeadlineKind.MILESTONE: "delivery",
    DeadlineKind.STAGE_LIMIT: "approval",
    DeadlineKind.RECTIFICATION: "assessment",
    DeadlineKind.CADENCE: "reporting",
}
NATURE = {"construction": "construction"}


def yuan(fen: int) -> Decimal:
    """Fen as exact yuan with two decimals: 3694000 -> Decimal('36940.00')."""
    return Decimal(fen).scaleb(-2)


def value(fen: int) -> dict[str, Any]:
    return {"amount": yuan(fen), "currency": CURRENCY}


def stamp(moment: datetime) -> str:
    return local(moment).isoformat(timespec="seconds")


def day_start(day: Any) -> str:
    return datetime.combine(day, time(0), LOCAL_TZ).isoformat(timespec="seconds")


def day_end(day: Any) -> str:
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ).isoformat(timespec="seconds")


def project_id(prefix: str, facts: ProgrammeFacts, project: ProjectFacts) -> str:
    return f"{prefix}{facts.programme.id}-{project.code}"


def status(project: ProjectFacts, definitions: dict[tuple[str, int], WorkflowDefinition]) -> str:
    stage = project.resume_stage if project.resume_stage else project.stage
    if stage in STATUS:
        return STATUS[stage]
    definition = definitions.get((project.definition_key, project.definition_version))
    found = next((s for s in definition.stages if s.key == stage), None) if definition else None
    return BY_PHASE[found.phase] if found else "implementation"


def package(
    facts: ProgrammeFacts,
    *,
    prefix: str,
    published: datetime,
    uri: str,
    definitions: dict[tuple[str, int], WorkflowDefinition],
) -> dict[str, Any]:
    """The project package."""
    publisher = facts.office or "ducha"
    return {
        "uri": uri,
        "publishedDate": stamp(published),
        "publisher": {"name": publisher},
        "version": VERSION,
        # Built one at a time as they are written.
        "projects": Streamed(
            project_document(facts, project, prefix, published, definitions) for project in facts.projects
        ),
    }


def _parties(facts: ProgrammeFacts, project: ProjectFacts) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The parties, and the id of each by its key (fund code, "office", "audit", "village", vendor id)."""
    parties: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    office = facts.office or "ducha"
    office_roles = ["publicAuthority"] if facts.auditor else ["publicAuthority", "reviewBody"]
    parties.append({"id": "office", "name": office, "roles": office_roles})
    ids["office"] = "office"
    if facts.auditor:
        parties.append({"id": "audit", "name": facts.auditor, "roles": ["reviewBody"]})
        ids["audit"] = "audit"
    moved = {m.fund for m in project.movements}
    for fund in facts.funds:
        if project.budget_fen.get(fund.code) or fund.code in moved:
            ids[fund.code] = f"fund-{fund.code}"
            parties.append({"id": ids[fund.code], "name": fund.name, "roles": ["funder"]})
    address = {"locality": project.village, "countryName": "中国"}
    if project.town:
        address["region"] = project.town
    village_roles = ["payer"]
    if any(m.vendor_id is not None and m.cash_fen > 0 for m in project.movements):
        village_roles.append("payee")  # a vendor refunded it
    parties.append(
        {
            "id": f"village-{project.village_id}",
            "name": f"{project.village}村民委员会",
            "address": address,
            "roles": village_roles,
        }
    )
    ids["village"] = f"village-{project.village_id}"
    vendors: dict[int, str] = {}
    for movement in project.movements:
        if movement.vendor_id is not None and movement.cash_fen:
            vendors.setdefault(movement.vendor_id, movement.vendor or f"vendor {movement.vendor_id}")
    for vendor_id, name in sorted(vendors.items()):
        ids[f"v{vendor_id}"] = f"vendor-{vendor_id}"
        roles = ["supplier", "payee"]
        if any(m.vendor_id == vendor_id and m.cash_fen > 0 for m in project.movements):
            roles.append("payer")  # it refunded money
        parties.append({"id": ids[f"v{vendor_id}"], "name": name, "roles": roles})
    return parties, ids


def _ref(parties: list[dict[str, Any]], party_id: str) -> dict[str, str]:
    party = next(p for p in parties if p["id"] == party_id)
    return {"id": party_id, "name": party["name"]}


def _budget(
    facts: ProgrammeFacts, project: ProjectFacts, parties: list[dict[str, Any]], ids: dict[str, str]
) -> dict[str, Any]:
    total = sum(project.budget_fen.values())
    by_source = [
        {
            "id": fund.code,
            "description": fund.name,
            "amount": value(project.budget_fen[fund.code]),
            "sourceParty": _ref(parties, ids[fund.code]),
        }
        for fund in facts.funds
        if project.budget_fen.get(fund.code)
    ]
    by_year: dict[int, int] = {}
    left = total
    for movement in project.movements:
        if movement.allocated_fen > 0 and left > 0:
            part = min(movement.allocated_fen, left)
            year = local_date(movement.occurred_at).year
            by_year[year] = by_year.get(year, 0) + part
            left -= part
    if left:
        by_year[project.planned_finish.year] = by_year.get(project.planned_finish.year, 0) + left
    budget: dict[str, Any] = {"amount": value(total)}
    breakdowns = []
    if by_source:
        breakdowns.append({"id": "fundingSource", "budgetBreakdown": by_source})
    if total:
        breakdowns.append(
            {
                "id": "fiscalYear",
                "budgetBreakdown": [
                    {
                        "id": str(year),
                        "amount": value(amount),
                        "period": {
                            "startDate": datetime(year, 1, 1, tzinfo=LOCAL_TZ).isoformat(),
                            "endDate": datetime(year, 12, 31, 23, 59, 59, tzinfo=LOCAL_TZ).isoformat(),
                        },
                    }
                    for year, amount in sorted(by_year.items())
                ],
            }
        )
    if breakdowns:
        budget["budgetBreakdowns"] = breakdowns
    return budget


def _transaction(
    movement: Movement, payer: dict[str, str] | None, payee: dict[str, str] | None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": str(movement.seq),
        "date": stamp(movement.occurred_at),
        "value": value(abs(movement.cash_fen)),
    }
    if payer:
        found["payer"] = payer
    if payee:
        found["payee"] = payee
    return found


def _money(
    project: ProjectFacts, parties: list[dict[str, Any]], ids: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The disbursements (project transactions) and one contracting process per vendor."""
    village = _ref(parties, ids["village"])
    disbursed: list[dict[str, Any]] = []
    by_vendor: dict[int, list[Movement]] = {}
    for movement in project.movements:
        if not movement.cash_fen:
            continue
        if movement.vendor_id is not None:
            by_vendor.setdefault(movement.vendor_id, []).append(movement)
        elif movement.kind == "spend":  # paid to nobody the ledger names
            disbursed.append(_transaction(movement, village, None))
        else:
            fund = _ref(parties, ids[movement.fund])
            inward = movement.cash_fen > 0
            disbursed.append(_transaction(movement, fund if inward else village, village if inward else fund))
    processes = []
    for vendor_id, movements in sorted(by_vendor.items()):
        vendor = _ref(parties, ids[f"v{vendor_id}"])
        summary: dict[str, Any] = {"title": f"{project.code} {vendor['name']}", "suppliers": [vendor]}
        natures = sorted({NATURE[m.category] for m in movements if m.category in NATURE})
        if natures:
            summary["nature"] = natures
        summary["transactions"] = [
            _transaction(m, village if m.cash_fen < 0 else vendor, vendor if m.cash_fen < 0 else village)
            for m in movements
        ]
        processes.append({"id": f"{project.code}-vendor-{vendor_id}", "summary": summary})
    return disbursed, processes


def _milestones(project: ProjectFacts, now: datetime) -> list[dict[str, Any]]:
    found = []
    for deadline in project.deadlines:
        if deadline.status == DeadlineStatus.WAIVED:
            continue  # no longer asked for
        milestone: dict[str, Any] = {
            "id": str(deadline.id),
            "title": deadline.title,
            "type": MILESTONE_TYPE[deadline.kind],
            "dueDate": stamp(deadline.due_at),
        }
        settled = deadline.settled_at is not None and deadline.settled_at <= now
        if deadline.status == DeadlineStatus.MET and settled:
            assert deadline.settled_at is not None
            milestone["status"] = "met"
            milestone["dateMet"] = stamp(deadline.settled_at)
        elif deadline.status == DeadlineStatus.MISSED and settled or deadline.due_at < now:
            milestone["status"] = "notMet"
        else:
            milestone["status"] = "scheduled"
        found.append(milestone)
    return found


def project_document(
    facts: ProgrammeFacts,
    project: ProjectFacts,
    prefix: str,
    now: datetime,
    definitions: dict[tuple[str, int], WorkflowDefinition],
) -> dict[str, Any]:
    """One project of the package."""
    parties, ids = _parties(facts, project)
    document: dict[str, Any] = {
        "id": project_id(prefix, facts, project),
        "updated": stamp(now),
        "language": "zh",
        "title": project.name,
        "status": status(project, definitions),
        "type": "construction",
        "sector": ["governance"],
        "period": {"startDate": day_start(project.planned_start), "endDate": day_end(project.planned_finish)},
        "locations": [
            {
                "id": "1",
                "description": project.name,
                "address": parties[[p["id"] for p in parties].index(ids["village"])]["address"],
            }
        ],
        "publicAuthority": _ref(parties, ids["office"]),
        "parties": parties,
        "budget": _budget(facts, project, parties, ids),
    }
    if facts.programme.earmark:
        document["description"] = f"{facts.programme.name}: {facts.programme.earmark}"
    if project.actual_start:
        period = {"startDate": day_start(project.actual_start)}
        if project.actual_finish:
            period["endDate"] = day_end(project.actual_finish)
        document["implementationPeriod"] = period
    disbursed, processes = _money(project, parties, ids)
    if disbursed:
        document["transactions"] = disbursed
    if processes:
        document["contractingProcesses"] = processes
    milestones = _milestones(project, now)
    if milestones:
        document["milestones"] = milestones
    if project.accepted_at is not None and project.stage in ("accepted", "closed"):
        document["completion"] = {
            "endDate": stamp(project.accepted_at),
            "finalValue": value(project.spent_fen),
        }
    return document


def write_package(
    *,
    session: Session,
    programme: Programme,
    at: datetime | None,
    now: datetime,
    prefix: str,
    uri: str,
    out: TextIO,
) -> int:
    """Write the programme's package to ``out`` as of ``at`` (None: all there is); how many projects."""
    facts = programme_facts(session=session, programme=programme, at=at)
    definitions = {
        (key, version): get_definition(session=session, key=key, version=version)
        for key, version in {(p.definition_key, p.definition_version) for p in facts.projects}
    }
    if not facts.projects:
        raise NotFound(f"{programme.name}: no projects to publish")
    write_json(package(facts, prefix=prefix, published=now, uri=uri, definitions=definitions), out)
    out.write("\n")
    return len(facts.projects)
