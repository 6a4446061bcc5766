"""The office's pages, server-rendered (Jinja2), Chinese first; htmx from our own static files."""

from ducha.web.pages import auth, board, files, funds, inspections, office, project, todo

PAGES = [
    auth.router,
    board.router,
    project.router,
    todo.router,
    inspections.router,
    office.router,
    files.router,
    funds.router,
]
