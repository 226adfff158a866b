"""Agencies and the AGENCY accounts that act for them."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Agency(Model):
    """A government department of one jurisdiction (the city's own, or a county's)."""

    id = fields.IntField(primary_key=True)
    jurisdiction: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="agencies", on_delete=fields.RESTRICT)
    jurisdiction_id: int  # set by Tortoise from `jurisdiction`
    name = fields.CharField(max_length=100)
    code = fields.CharField(max_length=32)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "agency"
        unique_together = (("jurisdiction", "code"),)


class AgencyStaff(Model):
    """Which agency an AGENCY account acts for (an account serves one agency)."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Account", related_name="agency_link", unique=True, on_delete=fields.CASCADE)
    account_id: int  # set by Tortoise from `account`
    agency: fields.ForeignKeyRelation[Agency] = fields.ForeignKeyField(
        "models.Agency", related_name="staff", on_delete=fields.RESTRICT)
    agency_id: int  # set by Tortoise from `agency`

    class Meta:
        table = "agency_staff"
