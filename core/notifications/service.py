"""Writing notices (inside the caller's transaction; every process hears of them on commit),
reading them, and waking this process's live subscribers."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from core import clock, writes
from core.errors import RateLimited
from core.notifications.models import Notification
from core.pagination import Page, keyset
from core.principal import Principal

CHANNEL = "notification"


# The notices, in the order given, and a NOTIFY to each account told (delivered on commit):
# two writes of one statement, whoever is told, whatever each is told.
_ADD = """
INSERT INTO notification (account_id, subject, subject_id, kind, text, created_at)
SELECT n.account, $4, $5, n.kind, n.text, $6
FROM unnest($1::int[], $2::varchar[], $3::varchar[]) WITH ORDINALITY AS n(account, kind, text, i)
ORDER BY n.i
RETURNING 1"""
_WAKE = "SELECT pg_notify($2, account::text) FROM unnest($1::int[]) AS account"


@dataclass(frozen=True)
class Notice:
    """What some accounts are told: a kind and its text."""

    account_ids: Sequence[int]
    kind: str
    text: str


async def notify(account_ids: Sequence[int], subject: str, subject_id: int, kind: str,
                 text: str) -> None:
    """A notice written inside the caller's transaction; every process hears of it on commit."""
    await writes.run(*notifying(subject, subject_id, [Notice(account_ids, kind, text)]))


def notifying(subject: str, subject_id: int, notices: Sequence[Notice]) -> list[writes.Write]:
    """Notices about one subject, each to its own accounts (each account told once per
    notice), as writes to run with the others of the caller's transaction or statement
    (core/writes.py)."""
    rows = [(account, notice.kind, notice.text[:300]) for notice in notices
            for account in sorted(set(notice.account_ids))]
    if not rows:
        return []
    accounts, kinds, texts = (list(column) for column in zip(*rows, strict=True))
    return [writes.Write(_ADD, [accounts, kinds, texts, subject, subject_id, clock.now()]),
            writes.Write(_WAKE, [accounts, CHANNEL])]


async def list_notifications(principal: Principal, first: int, after: int | None,
                             unread_only: bool) -> Page[Notification]:
    query = Notification.filter(account_id=principal.account_id)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return await keyset(query, first, after)


async def mark_read(principal: Principal, ids: list[int] | None) -> int:
    """Mark the caller's notices read (all of them when `ids` is None)."""
    query = Notification.filter(account_id=principal.account_id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=ids)
    return await query.update(read_at=clock.now())


async def latest_id(account_id: int) -> int:
    """Where a new subscriber starts: after everything already written for it."""
    last = await Notification.filter(account_id=account_id).order_by("-id").only("id").first()
    return last.id if last else 0


async def newer_than(account_id: int, last_id: int, subject: str) -> list[Notification]:
    return await Notification.filter(account_id=account_id, id__gt=last_id,
                                     subject=subject).order_by("id")


# Live subscriptions one account may hold in one server process, over all its sockets (each
# socket holds at most SUBSCRIPTIONS_PER_SOCKET, asgi.py).
SUBSCRIPTIONS_PER_ACCOUNT = 20


class Hub:
    """This process's live subscribers, by account; woken by notices from any process."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[None]]] = defaultdict(set)

    def subscribe(self, account_id: int) -> asyncio.Queue[None]:
        if len(self._queues.get(account_id, ())) >= SUBSCRIPTIONS_PER_ACCOUNT:
            raise RateLimited("实时订阅过多", "Too many live subscriptions for this account")
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        self._queues[account_id].add(queue)
        return queue

    def unsubscribe(self, account_id: int, queue: asyncio.Queue[None]) -> None:
        self._queues[account_id].discard(queue)
        if not self._queues[account_id]:
            del self._queues[account_id]

    async def on_notice(self, payload: str) -> None:
        if payload.isdigit():
            self._wake(self._queues.get(int(payload), set()))

    async def wake_all(self) -> None:
        """After the listener reconnects: notices sent meanwhile are lost, so every
        subscriber looks for what is new."""
        for queues in list(self._queues.values()):
            self._wake(queues)

    @staticmethod
    def _wake(queues: set[asyncio.Queue[None]]) -> None:
        for queue in list(queues):
            if queue.empty():  # one wake-up is enough: the subscriber reads all that is new
                queue.put_nowait(None)


hub = Hub()


async def follow(account_id: int, subject: str) -> AsyncIterator[Notification]:
    """Yield the account's new notices about `subject` as they are written, from now on."""
    queue = hub.subscribe(account_id)
    try:
        seen = await latest_id(account_id)
        while True:
            await queue.get()
            for item in await newer_than(account_id, seen, subject):
                seen = item.id
                yield item
    finally:
        hub.unsubscribe(account_id, queue)
