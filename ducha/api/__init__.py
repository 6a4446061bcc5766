"""The web front end: the REST API (``/api/v1``) and the office's pages, over the same actions and
reads as the CLI. ``create_app(context)`` builds it; ``ducha serve`` runs it with uvicorn."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ducha.context import AppContext

# Every answer an API route may give besides its own: declared once, in the OpenAPI document too.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"description": "the body cannot be read (not JSON, or a broken form)"},
    401: {"description": "not logged in: a session cookie or a bearer token is needed"},
    403: {"description": "the login's role may not do this, or the request came from another site"},
    404: {"description": "no such thing, or not one this login may see"},
    409: {"description": "refused by a rule, or changed by someone else meanwhile"},
    422: {"description": "the request is malformed: the message names the field"},
}


def create_app(context: AppContext) -> FastAPI:
    """The application: API routers, pages, static files, error mapping and security headers."""
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from ducha.api import errors
    from ducha.api.deps import PlainParameters
    from ducha.api.routes import ROUTERS
    from ducha.api.security import SecurityHeaders
    from ducha.web.pages import PAGES
    from ducha.web.templating import HERE

    app = FastAPI(
        title="ducha 督查",
        version="1",
        description="Supervision and inspection of construction programmes: projects, inspections, "
        "rectification orders, deadlines, notices. Money is integer fen; times are ISO 8601.",
        # Swagger UI loads its scripts from a CDN: an office network may have no internet, and the
        # pages allow scripts from ducha only. The OpenAPI document itself is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.context = context
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    plain = [PlainParameters]
    for router in ROUTERS:
        app.include_router(router, prefix="/api/v1", responses=ERROR_RESPONSES, dependencies=plain)
    for router in PAGES:
        app.include_router(router, include_in_schema=False, dependencies=plain)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
