"""Jurisdictions: the province, its cities, their county-level units and special districts."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Level(StrEnum):
    PROVINCE = "PROVINCE"
    CITY = "CITY"
    COUNTY = "COUNTY"
    SPECIAL_DISTRICT = "SPECIAL_DISTRICT"


class Jurisdiction(Model):
    """A node of the tenant tree; `path` is the parent's path plus this node's code."""

    id = fields.IntField(primary_key=True)
    path = fields.CharField(max_length=255, unique=True)
    code = fields.CharField(max_length=32)
    name = fields.CharField(max_length=100)
    level = fields.CharEnumField(Level, max_length=20)
    parent: fields.ForeignKeyNullableRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None  # set by Tortoise from `parent`
    # The seat of the office, to route a public assistance request to the nearest office.
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "jurisdiction"
        ordering = ("path",)
