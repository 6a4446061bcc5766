"""The browser tests use the integration tests' databases and web fixtures."""

from tests.integration.conftest import (  # noqa: F401  (fixtures, registered by being here)
    evidence_dir,
    postgres_databases,
    sqlite_templates,
)
from tests.integration.web.conftest import late_demo, late_postgres, late_sqlite, web  # noqa: F401
