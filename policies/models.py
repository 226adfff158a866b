"""Grants: an account holds a role in a domain (an exact path, or a subtree `jl.th.**`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.accounts.models import Account


class Grant(Model):
    """One role of one account in one domain; the Casbin `g` lines are loaded from these rows."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="grants", on_delete=fields.CASCADE
    )
    role = fields.CharField(max_length=32)
    domain = fields.CharField(max_length=255)
    granted_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "grant"
        unique_together = (("account", "role", "domain"),)
