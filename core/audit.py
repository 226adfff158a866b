"""The append-only audit trail: every mutation and sign-in, each record chained by a hash."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict, Unpack

import orjson
from tortoise import fields
from tortoise.models import Model

from core import clock, orm, writes
from core.batches import Batches
from core.logs import request_id as current_request

log = logging.getLogger(__name__)
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


SYSTEM = Actor(None, "system")  # the CLI's and the jobs' acts


# The hashed text of a record's fields, as the records so far were hashed: JSON with its keys
# sorted, no spaces, non-ASCII text as it is (made once: json.dumps makes one at each call).
_HASHED_TEXT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _body(fields_: dict[str, Any]) -> str:
    """The hashed text: one writer, json's, as every record so far was hashed."""
    return _HASHED_TEXT.encode(fields_)


def _digest(prev_hash: str, fields_: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _body(fields_)).encode()).hexdigest()


def _time_text(at: datetime) -> str:
    """`at` in ISO 8601 to the microsecond, as datetime.isoformat writes it; by orjson, in a
    sixth of its time, where that is the same text (UTC, and a fraction of a second to
    write: orjson leaves out a zero one)."""
    if at.tzinfo is UTC and at.microsecond:
        return orjson.dumps(at)[1:-1].decode()
    return at.isoformat(timespec="microseconds")


def _hashed_fields(
    at: datetime, actor_id: int | None, actor: str, action: str, target_type: str,
    target_id: str, jurisdiction: str, request: str, detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": _time_text(at), "actor_id": actor_id, "actor": actor,
        "action": action, "target_type": target_type, "target_id": target_id,
        "jurisdiction": jurisdiction, "request_id": request, "detail": detail,
    }


# Appends records in order after the last one (migrations 0017, 0018): the chain's lock, each
# record hashed after its predecessor by PostgreSQL over the same text as _digest, then all of
# them inserted by one statement. The records go as one JSON array of rows (_row).
_APPEND = "SELECT audit_append_records($1, $2, $3)"


def _arguments(rows: list[list[Any]]) -> list[Any]:
    """The append's arguments: the lock, the genesis and the rows."""
    return [_CHAIN_LOCK, GENESIS, orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()]


class Target(TypedDict, total=False):
    """What an audited act is about (each part empty unless given)."""

    target_type: str
    target_id: object
    jurisdiction: str
    detail: dict[str, Any] | None


def _row(actor: Actor, action: str, target_type: str = "", target_id: object = "",
         jurisdiction: str = "", detail: dict[str, Any] | None = None) -> list[Any]:
    """The append's values for one record, its hashed text last (`at` goes as orjson writes
    it, RFC 3339 to the microsecond, which PostgreSQL reads back exactly)."""
    at, request = clock.now(), current_request.get()
    fields_ = _hashed_fields(at, actor.id, actor.name, action, target_type, str(target_id),
                             jurisdiction, request, detail or {})
    return [at, actor.id, actor.name, action, target_type, str(target_id), jurisdiction, request,
            detail or {}, _body(fields_)]


def append(actor: Actor, action: str, **target: Unpack[Target]) -> writes.Write:
    """The append of one record, as a write to run with the operation's other writes (in
    its transaction, or in its one statement: core/writes.py).

    The append takes the chain's lock, which serialises appends until commit so that the
    chain has no forks, and inserts the record with `hash = _digest(prev_hash, fields)`,
    computed by PostgreSQL over the same text.
    """
    return writes.Write(_APPEND, _arguments([_row(actor, action, **target)]))


async def _append_rows(rows: list[list[Any]]) -> list[BaseException | None]:
    """Lone records of concurrent requests in one statement: under load the chain's lock and
    the commit's flush are taken once for several reads instead of once each (at size M, the
    case detail with its reporter: ~375 -> ~495 requests a second)."""
    await orm.client().fetch_value(_APPEND, _arguments(rows))
    return [None] * len(rows)


_lone_records: Batches[list[Any], None] = Batches(_append_rows)


async def record(actor: Actor, action: str, **target: Unpack[Target]) -> None:
    """Append one record: inside the operation's transaction, so that both commit or neither;
    a lone record (a read that discloses something) may be appended outside one, and returns
    once it is committed."""
    if writes.inside_transaction():
        await writes.run(append(actor, action, **target))
    else:
        await _lone_records.hand_in(_row(actor, action, **target))


@dataclass(frozen=True)
class Head:
    """A record's place in the chain as a witness outside the database keeps it (`id:hash`).

    The chain shows any change to a record and any removal before its newest record. It cannot
    show its newest records removed, nor the whole chain after some record recomputed by
    someone with the table owner's rights: for that, its head is written where the database's
    owner cannot reach (the hourly `audit head` log line, an operator's notes, the province),
    and a later verify is given it: the chain must still hold that record with that hash.
    """

    id: int
    hash: str

    def __str__(self) -> str:
        return f"{self.id}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """`id:hash` as `audit-head` prints it; ValueError otherwise."""
        number, _, digest = text.partition(":")
        if not number.isdigit() or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError(f"not a head (id:sha256-hex): {text!r}")
        return cls(int(number), digest)


async def head() -> Head | None:
    """The newest record's place in the chain, or None while the trail is empty."""
    last = await AuditRecord.all().order_by("-id").only("id", "hash").first()
    return Head(last.id, last.hash) if last else None


async def verify(witnessed: Head | None = None) -> int | None:
    """Walk the chain in order; return the id of the first broken record, or None if intact.
    With a witnessed head, that record must still be there with its hash: if it is gone, or
    differs, its id is returned (unless the chain broke before it)."""
    prev = GENESIS
    last_id = 0
    seen = False  # the witnessed record, when one is given
    while True:
        batch = await AuditRecord.filter(id__gt=last_id).order_by("id").limit(1000)
        if not batch:
            if witnessed is not None and not seen:
                return witnessed.id  # the tail is gone
            return None
        for rec in batch:
            values = _hashed_fields(
                rec.at, rec.actor_id, rec.actor, rec.action, rec.target_type, rec.target_id,
                rec.jurisdiction, rec.request_id, rec.detail,
            )
            if rec.prev_hash != prev or rec.hash != _digest(prev, values):
                return int(rec.id)
            if witnessed is not None and not seen and rec.id >= witnessed.id:
                if rec.id > witnessed.id or rec.hash != witnessed.hash:
                    return witnessed.id  # gone, or the chain was recomputed up to here
                seen = True
            prev = rec.hash
            last_id = rec.id


async def witness() -> None:
    """Log the chain's head (the `audit head` line), so that the logs, shipped out of the
    machine, hold heads for `audit-verify --head`; hourly in every server process."""
    found = await head()
    if found is not None:
        log.info("audit head", extra={"head": str(found)})
