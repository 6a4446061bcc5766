"""The API's routers, in the order the OpenAPI document lists them."""

from ducha.api.routes import admin, deadlines, funds, inspections, notices, projects, spotchecks

ROUTERS = [
    projects.router,
    inspections.router,
    deadlines.router,
    notices.router,
    spotchecks.router,
    funds.router,
    admin.router,
]
