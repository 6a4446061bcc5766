"""Places: district → town → village (区 → 乡镇 → 村)."""

from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class PlaceKind(StrEnum):
    DISTRICT = "district"
    TOWN = "town"
    VILLAGE = "village"


class Place(SQLModel, table=True):
    """A district, town or village; names are unique among siblings."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_place_parent_name"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: PlaceKind = Field(sa_column=Column(String(16), nullable=False, index=True))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    parent_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("place.id"), nullable=True, index=True)
    )


# Imported on its own (not through ``models``), a table module still brings the tables it refers to.
from models import load_tables  # noqa: E402  (after the classes: the tables may refer back to these)

load_tables(__name__)
