"""Alembic migrations for the ducha schema."""
