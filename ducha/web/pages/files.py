"""Files in and out: a person's calendar of deadlines (iCal, at a secret address), the programme's
ledger (台账) as XLSX, a project's fund trail as CSV or XLSX (the files `ducha audit trail` writes),
and a project register uploaded for import (the same importer as the CLI)."""

from __future__ import annotations

import io
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from ducha.api.deps import ContextDep, CsrfChecked, CurrentUser, Now, ReadSession, web_transaction
from ducha.api.errors import status_of
from ducha.api.routes.common import require_roles, scoped_project
from ducha.api.uploads import save_uploads
from ducha.web.pages.board import programme_of
from ducha.web.templating import page
from models.errors import DuchaError, NotFound
from workflows.login import Identity

router = APIRouter()
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORTERS = ("admin", "office")


@router.get("/calendar/{token}.ics")
def calendar_feed(
    token: str, request: Request, session: ReadSession, context: ContextDep, now: Now
) -> Response:
    """A person's deadlines for a calendar app; the secret address is the only key (revocable)."""
    from workflows.accounts import feed_person
    from workflows.calendar_feed import person_feed

    person = feed_person(session=session, token=token) if TOKEN.match(token) else None
    if person is None or person.id is None:
        raise NotFound("no such calendar")
    base = context.settings.public_url or str(request.base_url).rstrip("/")
    feed = person_feed(
        session=session, person_id=person.id, now=now, calendar=context.calendar, base_url=base
    )
    headers = {"ETag": feed.etag, "Cache-Control": "private, max-age=900"}
    if feed.etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type="text/calendar; charset=utf-8", headers=headers)


@router.post("/calendar/new", dependencies=[CsrfChecked])
def new_feed(request: Request, user: CurrentUser, context: ContextDep, now: Now) -> Response:
    """A new secret address for my calendar (the one before stops working); shown once."""
    from workflows.accounts import feed_token

    with web_transaction(
        request, context, user, action="calendar feed made", subject=user.person.name, at=now
    ) as (
        session,
        _,
    ):
        secret = feed_token(session=session, now=now, actor=user.person, person=str(user.person.id))
    base = context.settings.public_url or str(request.base_url).rstrip("/")
    return page(request, "feed_once.html", url=f"{base}/calendar/{secret}.ics")


@router.get("/programmes/{programme}/ledger.xlsx")
def ledger(programme: str, user: CurrentUser, session: ReadSession, now: Now) -> Response:
    """The programme's ledger (台账), one row per project this login sees."""
    from models.localtime import local
    from workflows.ledger_export import programme_ledger_xlsx

    chosen = programme_of(session, programme)
    assert chosen.id is not None
    out = io.BytesIO()
    scope = None if user.scope.everything else user.scope.projects
    programme_ledger_xlsx(session=session, programme_id=chosen.id, now=now, out=out, scope_predicate=scope)
    name = f"ledger-{chosen.id}-{local(now):%Y%m%d}.xlsx"
    return Response(
        out.getvalue(), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/projects/{code}/trail.csv")
def trail_csv_file(code: str, user: CurrentUser, session: ReadSession, now: Now) -> Response:
    """Every movement of the project's money as of now, as CSV (``ducha audit trail --format csv``'s)."""
    return _trail_file(code, "csv", user, session, now)


@router.get("/projects/{code}/trail.xlsx")
def trail_xlsx_file(code: str, user: CurrentUser, session: ReadSession, now: Now) -> Response:
    """Every movement of the project's money as of now, as an XLSX workbook (``--format xlsx``'s)."""
    return _trail_file(code, "xlsx", user, session, now)


def _trail_file(code: str, fmt: str, user: Identity, session: Session, now: datetime) -> Response:
    from funds.reads import trail
    from models.localtime import local
    from workflows.trail_files import trail_csv, trail_workbook

    project = scoped_project(session, user, code)
    rows = trail(session=session, project=project, at=now)
    headers = {
        "Content-Disposition": f'attachment; filename="trail-{project.code}-{local(now):%Y%m%d}.{fmt}"'
    }
    if fmt == "xlsx":
        out = io.BytesIO()
        trail_workbook(rows, out)
        return Response(out.getvalue(), media_type=XLSX, headers=headers)
    text = io.StringIO()
    trail_csv(rows, text)
    # UTF-8 with a byte order mark, as the CLI writes it: Excel then reads the Chinese right.
    body = "\ufeff" + text.getvalue()
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/programmes/{programme}/import")
def import_form(programme: str, request: Request, user: CurrentUser, session: ReadSession) -> Response:
    require_roles(user, IMPORTERS, "import a register")
    return page(request, "import.html", programme=programme_of(session, programme), problems=[], done=None)


@router.post("/programmes/{programme}/import", dependencies=[CsrfChecked])
def import_register(
    programme: str,
    request: Request,
    user: CurrentUser,
    context: ContextDep,
    now: Now,
    file: Annotated[UploadFile, File(description="a register: CSV (UTF-8 or GB18030) or XLSX")],
) -> Response:
    """Import a register, all or nothing; every bad row is named and nothing is written."""
    from workflows.actions import import_register as run_import
    from workflows.actions import read_register_file

    require_roles(user, IMPORTERS, "import a register")
    with context.reading() as session:
        chosen = programme_of(session, programme)
    folder = ""
    try:
        with tempfile.TemporaryDirectory(prefix="ducha-register-") as folder:
            [path] = save_uploads(Path(folder), [file], limit=context.settings.evidence_max_bytes)
            with context.reading() as session:
                read = read_register_file(session=session, path=path, programme=str(chosen.id))
            with web_transaction(
                request, context, user, action="register imported", subject=chosen.name, at=now
            ) as (
                session,
                write,
            ):
                done = run_import(
                    session=session,
                    now=now,
                    calendar=context.calendar,
                    actor=user.person,
                    path=path,
                    register=read,
                )
                write.after = {"file": path.name, "projects": [p.code for p in done.projects][:200]}
    except DuchaError as exc:
        problems = [line.replace(f"{folder}/", "") for line in exc.lines()]  # the file's own name only
        return page(
            request, "import.html", status_code=status_of(exc), programme=chosen, problems=problems, done=None
        )
    return page(request, "import.html", programme=chosen, problems=[], done=len(done.projects))
