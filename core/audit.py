"""The append-only audit trail: every mutation and sign-in, each record chained by a hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections, fields
from tortoise.models import Model

from core import clock
from core.logs import request_id as current_request

GENESIS = "0" * 64
# One lock id for the whole trail: appends are serialised so that each sees its predecessor.
_CHAIN_LOCK = 0x5A_0D_17


class AuditRecord(Model):
    """One audited act. Never updated or deleted; `hash` covers the fields and `prev_hash`."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor_id = fields.IntField(null=True)
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32, default="")
    target_id = fields.CharField(max_length=64, default="")
    jurisdiction = fields.CharField(max_length=255, default="")
    request_id = fields.CharField(max_length=64)
    detail: dict[str, Any] = fields.JSONField(default=dict)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_record"
        indexes = (("jurisdiction", "id"),)


@dataclass(frozen=True)
class Actor:
    """Who did it: an account, or the system (CLI, jobs) under a name."""

    id: int | None
    name: str


def _body(fields_: dict[str, Any]) -> str:
    return json.dumps(fields_, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _digest(prev_hash: str, fields_: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _body(fields_)).encode()).hexdigest()


def _hashed_fields(
    at: datetime, actor_id: int | None, actor: str, action: str, target_type: str,
    target_id: str, jurisdiction: str, request: str, detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": at.isoformat(timespec="microseconds"), "actor_id": actor_id, "actor": actor,
        "action": action, "target_type": target_type, "target_id": target_id,
        "jurisdiction": jurisdiction, "request_id": request, "detail": detail,
    }


async def record(
    actor: Actor,
    action: str,
    *,
    target_type: str = "",
    target_id: object = "",
    jurisdiction: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one record: inside the operation's transaction, so that both commit or neither;
    a lone record (a read that discloses something) may be appended outside one.

    One statement (`audit_append`, migration 0009) takes the chain's lock, which serialises
    appends until commit so that the chain has no forks, and inserts the record with
    `hash = _digest(prev_hash, fields)`, computed by PostgreSQL over the same text.
    """
    at = clock.now()
    values = _hashed_fields(
        at, actor.id, actor.name, action, target_type, str(target_id), jurisdiction,
        current_request.get(), detail or {},
    )
    await connections.get("default").execute_query(
        "SELECT audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)", [
            _CHAIN_LOCK, GENESIS, at, actor.id, actor.name, action, target_type,
            str(target_id), jurisdiction, current_request.get(),
            json.dumps(detail or {}, ensure_ascii=False), _body(values)])


async def verify() -> int | None:
    """Walk the chain in order; return the id of the first broken record, or None if intact."""
    prev = GENESIS
    last_id = 0
    while True:
        batch = await AuditRecord.filter(id__gt=last_id).order_by("id").limit(1000)
        if not batch:
            return None
        for rec in batch:
            values = _hashed_fields(
                rec.at, rec.actor_id, rec.actor, rec.action, rec.target_type, rec.target_id,
                rec.jurisdiction, rec.request_id, rec.detail,
            )
            if rec.prev_hash != prev or rec.hash != _digest(prev, values):
                return rec.id
            prev = rec.hash
            last_id = rec.id
