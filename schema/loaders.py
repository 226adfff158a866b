"""Per-request data loaders (`<Thing>By<Key>Loader`), built fresh for every request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from policies.models import Grant
from tenants.models import Jurisdiction


async def _jurisdictions_by_id(ids: Sequence[int]) -> list[Jurisdiction | None]:
    found = {j.id: j for j in await Jurisdiction.filter(id__in=list(ids))}
    return [found.get(i) for i in ids]


async def _children_by_parent_id(ids: Sequence[int]) -> list[list[Jurisdiction]]:
    children: dict[int, list[Jurisdiction]] = {i: [] for i in ids}
    for child in await Jurisdiction.filter(parent_id__in=list(ids)).order_by("path"):
        children[child.parent_id].append(child)  # type: ignore[attr-defined]
    return [children[i] for i in ids]


async def _grants_by_account_id(ids: Sequence[int]) -> list[list[Grant]]:
    grants: dict[int, list[Grant]] = {i: [] for i in ids}
    for grant in await Grant.filter(account_id__in=list(ids)).order_by("id"):
        grants[grant.account_id].append(grant)  # type: ignore[attr-defined]
    return [grants[i] for i in ids]


@dataclass
class Loaders:
    jurisdiction_by_id: DataLoader[int, Jurisdiction | None] = field(
        default_factory=lambda: DataLoader(load_fn=_jurisdictions_by_id)
    )
    children_by_parent_id: DataLoader[int, list[Jurisdiction]] = field(
        default_factory=lambda: DataLoader(load_fn=_children_by_parent_id)
    )
    grants_by_account_id: DataLoader[int, list[Grant]] = field(
        default_factory=lambda: DataLoader(load_fn=_grants_by_account_id)
    )
