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


# The predecessor's hash and this record's are taken in the statement that inserts it, after
# the lock: two round trips per append, however long the chain.
_APPEND = """
INSERT INTO audit_record (at, actor_id, actor, action, target_type, target_id, jurisdiction,
                          request_id, detail, prev_hash, hash)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, prev.hash,
       encode(sha256(convert_to(prev.hash || $10, 'UTF8')), 'hex')
FROM (SELECT coalesce((SELECT hash FROM audit_record ORDER BY id DESC LIMIT 1), $11) AS hash
     ) prev"""


async def record(
    actor: Actor,
    action: str,
    *,
    target_type: str = "",
    target_id: object = "",
    jurisdiction: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one record. Call inside the operation's transaction so both commit or neither.

    The advisory lock serialises appends until commit, so the chain has no forks; the hash is
    `_digest(prev_hash, fields)`, computed by PostgreSQL over the same text.
    """
    conn = connections.get("default")
    await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_CHAIN_LOCK])
    at = clock.now()
    values = _hashed_fields(
        at, actor.id, actor.name, action, target_type, str(target_id), jurisdiction,
        current_request.get(), detail or {},
    )
    await conn.execute_query(_APPEND, [
        at, actor.id, actor.name, action, target_type, str(target_id), jurisdiction,
        current_request.get(), json.dumps(detail or {}, ensure_ascii=False), _body(values),
        GENESIS])


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
