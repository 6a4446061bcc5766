"""The ``ducha`` command line. Exit codes: 0 ok, 1 a finding, 2 bad input (with a message), 3 a bug.

One module per command group; ``COMMANDS`` and ``GROUPS`` register them in the order ``--help``
shows them, in panels. The modules import their domain code when a command runs, so ``ducha
--help`` loads Typer and little else.
"""

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ducha.cli import (
    admin,
    audit,
    calendar,
    deadlines,
    exports,
    funds,
    inspections,
    notices,
    orders,
    payments,
    programmes,
    projects,
    serve,
    spotchecks,
    staff,
    users,
)
from ducha.cli.common import DuchaGroup, errors
from ducha.context import AppContext

SET_UP, STAFF, PROJECTS, WEB = "Set-up", "Staff and roles", "Projects", "Web"
INSPECTIONS, DEADLINES, NOTICES = "Inspections and orders", "Deadlines", "Notices"
FUNDS = "Funds and audit"

app = typer.Typer(
    cls=DuchaGroup,
    no_args_is_help=True,
    add_completion=False,
    help="督查 ducha: supervise and inspect.",
    pretty_exceptions_enable=False,
)

# (panel, name, command function): the root verbs of DESIGN.md and the read commands.
COMMANDS: list[tuple[str, str, Callable[..., Any]]] = [
    (SET_UP, "init", admin.init),
    (SET_UP, "demo", admin.demo),
    (SET_UP, "check", admin.check),
    (PROJECTS, "board", projects.board),
    (PROJECTS, "projects", projects.projects),
    (PROJECTS, "show", projects.show),
    (PROJECTS, "advance", projects.advance),
    (INSPECTIONS, "inspections", inspections.inspections),
    (DEADLINES, "sweep", deadlines.sweep_command),
    (DEADLINES, "alerts", deadlines.alerts),
    (DEADLINES, "scheduler", admin.scheduler),
    (NOTICES, "dispatch", notices.dispatch_command),
    (NOTICES, "inbox", notices.inbox),
    (WEB, "serve", serve.serve),
]
# (panel, name, sub-application)
GROUPS = [
    (SET_UP, "calendar", calendar.calendar_app),
    (STAFF, "units", staff.units_app),
    (STAFF, "people", staff.people_app),
    (STAFF, "roles", staff.roles_app),
    (PROJECTS, "programmes", programmes.programmes_app),
    (PROJECTS, "import", programmes.import_app),
    (PROJECTS, "document", projects.document_app),
    (PROJECTS, "workflows", programmes.workflows_app),
    (PROJECTS, "export", exports.export_app),
    (INSPECTIONS, "inspect", inspections.inspect_app),
    (INSPECTIONS, "orders", orders.orders_app),
    (INSPECTIONS, "spotcheck", spotchecks.spotcheck_app),
    (DEADLINES, "deadlines", deadlines.deadlines_app),
    (NOTICES, "notices", notices.notices_app),
    (NOTICES, "channels", notices.channels_app),
    (WEB, "users", users.users_app),
    (FUNDS, "funds", funds.funds_app),
    (FUNDS, "audit", audit.audit_app),
]
del payments  # its commands join the funds group (ducha funds spend …) when it is imported
for _panel, _name, _command in COMMANDS:
    app.command(_name, rich_help_panel=_panel)(_command)
for _panel, _name, _group in GROUPS:
    app.add_typer(_group, name=_name, rich_help_panel=_panel)


@app.callback()
def root(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Freeze 'now' for every command (ISO 8601). DUCHA_NOW does the same."),
    ] = None,
) -> None:
    """督查 ducha: lifecycle, inspections and deadlines of supervised construction programmes."""
    if not isinstance(ctx.obj, AppContext):  # a caller may hand one in (a test, with its own engine)
        ctx.obj = AppContext()
    ctx.obj.at = at
    ctx.obj.note = lambda text: errors().print(text, markup=False, highlight=False)
    ctx.call_on_close(ctx.obj.dispose)


def main() -> Any:
    """Console-script entry point."""
    return app(prog_name="ducha")


if __name__ == "__main__":
    sys.exit(main())
