"""Shapes of the API's bodies where a read's own dataclass is not already one (requests, details)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.board import ProjectRow
from workflows.engine import TransitionOption


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL refuses a NUL in text with an error; refused here, the answer names the field.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("contains U+0000 (NUL), which is not allowed")
        return value


class EventOut(BaseModel):
    occurred_at: datetime
    actor_name: str
    from_stage: str | None
    to_stage: str
    reason: str


class DocumentOut(BaseModel):
    id: int
    kind: str
    title: str
    recorded_at: datetime


class ProjectDetailOut(BaseModel):
    project: ProjectRow
    history: list[EventOut]
    documents: list[DocumentOut]
    next: list[TransitionOption]


class TransitionIn(Strict):
    to: str = Field(min_length=1, max_length=32, description="the stage to move to ('resume' un-suspends)")
    reason: str = Field(default="", max_length=2000)


class TransitionOut(BaseModel):
    project: str
    from_stage: str
    to_stage: str
    occurred_at: datetime


class DocumentIn(Strict):
    kind: str = Field(min_length=1, max_length=64)
    title: str = Field(default="", max_length=200)


class MeOut(BaseModel):
    person_id: int
    name: str
    phone: str | None
    role: str
    sees_everything: bool
    town: str | None


class VerifyIn(Strict):
    accept: bool
    reason: str = Field(default="", max_length=2000)


class OrderEventOut(BaseModel):
    order_id: int
    action: str
    at: datetime
    status: str


class SignedOut(BaseModel):
    inspection_id: int
    outcome: str
    orders: list[int]
    transition: str | None


class RecordedOut(BaseModel):
    inspection_id: int
    project: str
    score: str
    outcome: str


class ExtendIn(Strict):
    to: date
    reason: str = Field(min_length=1, max_length=2000)


class DrawIn(Strict):
    programme: str = Field(min_length=1, max_length=200)
    count: int = Field(ge=1, le=1000)


class AckOut(BaseModel):
    notice_id: int
    acknowledged_at: datetime | None
    read_at: datetime | None


class PersonIn(Strict):
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=1, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    unit: str | None = Field(default=None, max_length=100)


class RoleIn(Strict):
    person: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=16)
    unit: str | None = Field(default=None, max_length=100)
    project: str | None = Field(default=None, max_length=100)
    reason: str = Field(default="", max_length=2000)


class RevokeIn(Strict):
    person: str = Field(min_length=1, max_length=64)
    role: str = Field(min_length=1, max_length=16)
    unit: str | None = Field(default=None, max_length=100)
    project: str | None = Field(default=None, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)
