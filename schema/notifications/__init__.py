"""GraphQL for notifications: the list, marking read (subscriptions live with their domain)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.notifications import models as m
from core.notifications import service
from schema.context import Context
from schema.ids import parse_id
from schema.relay import Connection, connection, decode_cursor


@strawberry.type
class Notification:
    id: strawberry.ID
    kind: str
    text: str
    subject: str = strawberry.field(description="case, assistance or activity")
    subject_id: strawberry.ID
    created_at: datetime
    read: bool

    @strawberry.field(description="The case's id, for notices about a case.")
    def case_id(self) -> strawberry.ID | None:
        return self.subject_id if self.subject == "case" else None

    @classmethod
    def of(cls, n: m.Notification) -> Notification:
        return cls(id=strawberry.ID(str(n.id)), kind=n.kind, text=n.text, subject=n.subject,
                   subject_id=strawberry.ID(str(n.subject_id)), created_at=n.created_at,
                   read=n.read_at is not None)


@strawberry.type
class Query:
    @strawberry.field(description="My notifications, oldest first.")
    async def notifications(self, info: Info[Context, None], first: int = 20,
                            after: str | None = None, unread_only: bool = False
                            ) -> Connection[Notification]:
        principal = await info.context.require()
        page = await service.list_notifications(principal, first, decode_cursor(after),
                                                unread_only)
        return connection(page, Notification.of)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Mark my notifications read (all when ids are omitted).")
    async def mark_notifications_read(self, info: Info[Context, None],
                                      ids: list[strawberry.ID] | None = None) -> int:
        principal = await info.context.require()
        return await service.mark_read(
            principal, [parse_id(i, "ids") for i in ids] if ids else None)
