"""Per-request data loaders (`<Thing>By<Key>Loader`), built fresh for every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from core.accounts.models import Account
from core.agencies.models import Agency
from core.attachments.models import Attachment
from core.cases.models import CaseEvent, SupervisionOrder
from core.roster.models import ContactFirm, Endorsement, Filing, Group, SupervisorEvent
from core.scoring.points import balances
from policies.models import Grant
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction


def _by_id(model: type[Model]) -> Callable[[Sequence[int]], Awaitable[list[Any]]]:
    """A batch function: the row of `model` for each id (None where there is none)."""

    async def load(ids: Sequence[int]) -> list[Any]:
        found = {row.pk: row for row in await model.filter(id__in=list(ids))}
        return [found.get(i) for i in ids]

    return load


def _grouped(field: str, model: type[Model], order: str = "id",
             **conditions: object) -> Callable[[Sequence[int]], Awaitable[list[list[Any]]]]:
    """A batch function: the rows of `model` whose `field` is each key, in key order."""

    async def load(ids: Sequence[int]) -> list[list[Any]]:
        rows: dict[int, list[Any]] = {i: [] for i in ids}
        filters: dict[str, Any] = {f"{field}__in": list(ids), **conditions}
        for row in await model.filter(**filters).order_by(order):
            rows[getattr(row, field)].append(row)
        return [rows[i] for i in ids]

    return load


async def _attachments_by_case_id(ids: Sequence[int]) -> list[list[Attachment]]:
    """Attachment metadata only: the bytes stay in the database until downloaded."""
    rows: dict[int, list[Attachment]] = {i: [] for i in ids}
    for row in await Attachment.filter(case_id__in=list(ids)).order_by("id").only(
            "id", "case_id", "uploader_id", "filename", "content_type", "size", "sha256",
            "uploaded_at"):
        assert row.case_id is not None  # the filter asks for a case
        rows[row.case_id].append(row)
    return [rows[i] for i in ids]


async def _jurisdictions(ids: Sequence[int]) -> list[Jurisdiction | None]:
    found = await jurisdictions.by_ids(ids)
    return [found.get(i) for i in ids]


async def _balances(ids: Sequence[int]) -> list[int]:
    found = await balances(list(ids))
    return [found.get(i, 0) for i in ids]


class Loaders:
    """A request's loaders, each made the first time the request asks for it (a list of
    supervisors needs one or two of them, not all fourteen)."""

    @cached_property
    def jurisdiction_by_id(self) -> DataLoader[int, Jurisdiction | None]:
        return DataLoader(load_fn=_jurisdictions)

    @cached_property
    def children_by_parent_id(self) -> DataLoader[int, list[Jurisdiction]]:
        return DataLoader(load_fn=_grouped("parent_id", Jurisdiction, "path"))

    @cached_property
    def grants_by_account_id(self) -> DataLoader[int, list[Grant]]:
        return DataLoader(load_fn=_grouped("account_id", Grant))

    @cached_property
    def group_by_id(self) -> DataLoader[int, Group | None]:
        return DataLoader(load_fn=_by_id(Group))

    @cached_property
    def account_by_id(self) -> DataLoader[int, Account | None]:
        return DataLoader(load_fn=_by_id(Account))

    @cached_property
    def contact_firms_by_supervisor_id(self) -> DataLoader[int, list[ContactFirm]]:
        return DataLoader(load_fn=_grouped("supervisor_id", ContactFirm,
                                           unlinked_at__isnull=True))

    @cached_property
    def filings_by_supervisor_id(self) -> DataLoader[int, list[Filing]]:
        return DataLoader(load_fn=_grouped("supervisor_id", Filing))

    @cached_property
    def events_by_supervisor_id(self) -> DataLoader[int, list[SupervisorEvent]]:
        return DataLoader(load_fn=_grouped("supervisor_id", SupervisorEvent))

    @cached_property
    def endorsements_by_application_id(self) -> DataLoader[int, list[Endorsement]]:
        return DataLoader(load_fn=_grouped("application_id", Endorsement))

    @cached_property
    def agency_by_id(self) -> DataLoader[int, Agency | None]:
        return DataLoader(load_fn=_by_id(Agency))

    @cached_property
    def events_by_case_id(self) -> DataLoader[int, list[CaseEvent]]:
        return DataLoader(load_fn=_grouped("case_id", CaseEvent))

    @cached_property
    def orders_by_case_id(self) -> DataLoader[int, list[SupervisionOrder]]:
        return DataLoader(load_fn=_grouped("case_id", SupervisionOrder))

    @cached_property
    def attachments_by_case_id(self) -> DataLoader[int, list[Attachment]]:
        return DataLoader(load_fn=_attachments_by_case_id)

    @cached_property
    def points_by_supervisor_id(self) -> DataLoader[int, int]:
        return DataLoader(load_fn=_balances)
