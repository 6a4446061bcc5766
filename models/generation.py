"""The data generation: a number the database changes (to a new random one) whenever something a
project list's count, the battle map or the programme list shows may have changed (migration 0011's
triggers on the tables they read), so that a process may keep those answers while the number stays.

On PostgreSQL the number changes once per committed transaction that wrote a watched table, when it
commits; on SQLite once per written row. Either way a reader that reads the number first and its
answer after it never keeps an answer older than the number it is kept under.
"""

from sqlalchemy import BigInteger, CheckConstraint, Column, text
from sqlmodel import Field, Session, SQLModel


class DataGeneration(SQLModel, table=True):
    """One row (id 1): a random number drawn anew each time the watched tables change (not a count:
    a database restored from a backup and written to must not reach a number kept from before)."""

    __tablename__ = "data_generation"
    __table_args__ = (CheckConstraint("id = 1", name="ck_data_generation_one_row"),)

    id: int | None = Field(default=None, primary_key=True)
    generation: int = Field(sa_column=Column(BigInteger, nullable=False))


class DataGenerationPending(SQLModel, table=True):
    """PostgreSQL: a transaction that wrote a watched table and has not committed yet (its id)."""

    __tablename__ = "data_generation_pending"

    txid: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


_READ = text("SELECT generation FROM data_generation WHERE id = 1")


def data_generation(session: Session) -> int:
    """The data generation now (one primary-key read)."""
    return int(session.connection().execute(_READ).scalar_one())
