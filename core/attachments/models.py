"""Evidence files: uploaded first (staged to their uploader), then attached to a case or to an
assistance report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.cases.models import Case


class Attachment(Model):
    """Evidence: uploaded first (staged to its uploader), then attached to a case or to an
    assistance report."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyNullableRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="attachments", null=True, on_delete=fields.RESTRICT)
    case_id: int | None  # set by Tortoise from `case`
    assistance: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.AssistanceRequest", related_name="attachments", null=True,
        on_delete=fields.RESTRICT)
    assistance_id: int | None  # set by Tortoise from `assistance`
    uploader_id = fields.IntField()
    filename = fields.CharField(max_length=200)
    content_type = fields.CharField(max_length=64)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    data = fields.BinaryField()
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "attachment"
        indexes = (("case_id",), ("uploader_id", "case_id"))
