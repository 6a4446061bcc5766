"""Alembic migrations for the ducha schema.

``REVISIONS`` lists every revision in order, so that checking a database's schema needs no Alembic
import (a test keeps the list equal to the migration scripts).
"""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012")
