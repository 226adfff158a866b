"""Roster inputs, converted into the service's plain values."""

from __future__ import annotations

import strawberry

from core.roster import appointment
from schema.roster.types import Category, Condition, FirmSize, Gender, SupervisorStatus


@strawberry.input
class PersonInput:
    name: str
    phone: str
    id_number: str = strawberry.field(description="Resident ID number; stored encrypted.")
    category: Category
    unit: str
    industry: str = ""
    gender: Gender | None = None
    birth_year: int | None = None
    is_small_micro: bool = False
    is_npc_deputy: bool = False
    is_cppcc_member: bool = False
    latitude: float | None = None
    longitude: float | None = None

    def value(self) -> appointment.PersonInput:
        return appointment.PersonInput(
            name=self.name, phone=self.phone, id_number=self.id_number, category=self.category,
            unit=self.unit, industry=self.industry, gender=self.gender,
            birth_year=self.birth_year, is_small_micro=self.is_small_micro,
            is_npc_deputy=self.is_npc_deputy, is_cppcc_member=self.is_cppcc_member,
            latitude=self.latitude, longitude=self.longitude)


@strawberry.input(description="A statement or finding on one R1.1 condition.")
class ConditionInput:
    condition: Condition
    text: str


def conditions(items: list[ConditionInput]) -> dict[str, str]:
    """Duplicates collapse to one key and so fail the one-per-condition check."""
    values: dict[str, str] = {}
    for item in items:
        if str(item.condition) in values:
            values["__duplicate__"] = item.text
        values[str(item.condition)] = item.text
    return values


@strawberry.input
class RecommendationInput:
    unit: str
    contact: str
    text: str


@strawberry.input
class ApplicationInput:
    jurisdiction: str = strawberry.field(description="A county-level path, or the city's "
                                                     "path for a special supervisor.")
    is_special: bool = False
    person: PersonInput
    statements: list[ConditionInput]
    recommendation: RecommendationInput


@strawberry.input
class ContactFirmInput:
    name: str
    credit_code: str = strawberry.field(description="Unified social credit code (18 chars).")
    industry: str = ""
    size: FirmSize


@strawberry.input
class SupervisorFilter:
    jurisdiction: str | None = None
    status: SupervisorStatus | None = None
    category: Category | None = None
    is_special: bool | None = None
    group: strawberry.ID | None = None
    search: str | None = strawberry.field(default=None, description="Part of the name.")
