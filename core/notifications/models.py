"""A notice to one account about a subject (a case, an assistance request, an activity)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Account", related_name="notifications", on_delete=fields.CASCADE)
    account_id: int  # set by Tortoise from `account`
    subject = fields.CharField(max_length=16)  # "case", "assistance", "activity"
    subject_id = fields.IntField()
    kind = fields.CharField(max_length=32)
    text = fields.CharField(max_length=300)
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("account_id", "id"),)
