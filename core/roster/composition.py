"""R1.2 and R1.3: a roster's composition, for one jurisdiction or every one under a path,
computed in one grouped query and rolled up the tree in memory."""

from __future__ import annotations

from dataclasses import dataclass

from core import orm
from core.errors import NotFound
from core.jurisdictions.service import list_jurisdictions
from core.principal import Principal
from core.roster.models import Category, Person, Status
from core.roster.rules import Composition, Counts, composition
from policies.access import jurisdiction_in_scope, scope
from tenants.models import Jurisdiction
from tenants.paths import within

_COUNTS_SQL = """
SELECT j.path, s.category, count(*) AS n,
       count(*) FILTER (WHERE s.is_small_micro) AS small_micro,
       count(*) FILTER (WHERE s.is_npc_deputy) AS npc,
       count(*) FILTER (WHERE s.is_cppcc_member) AS cppcc
FROM supervisor s JOIN jurisdiction j ON j.id = s.jurisdiction_id
WHERE s.status = $1 AND (j.path = $2 OR j.path LIKE $3)
GROUP BY j.path, s.category
"""


@dataclass(frozen=True)
class Report:
    jurisdiction: Jurisdiction
    composition: Composition


async def _counts_by_path(under: str) -> dict[str, Counts]:
    """Active supervisors per home path, at and below `under` (one query)."""
    rows = await orm.client().execute_query_dict(
        _COUNTS_SQL, [Status.ACTIVE.value, under, under + ".%"])
    by_path: dict[str, Counts] = {}
    for row in rows:
        own = Counts(int(row["n"]), {Category(row["category"]): int(row["n"])},
                     int(row["small_micro"]), int(row["npc"]), int(row["cppcc"]))
        by_path[row["path"]] = by_path.get(row["path"], Counts()).plus(own)
    return by_path


def _rolled_up(path: str, by_path: dict[str, Counts]) -> Counts:
    """A jurisdiction's roster includes those of the units below it (a city's figure is the
    whole city's)."""
    total = Counts()
    for other, counts in by_path.items():
        if within(other, path):
            total = total.plus(counts)
    return total


async def counts_for(path: str) -> Counts:
    return _rolled_up(path, await _counts_by_path(path))


async def composition_reports(principal: Principal, under: str) -> list[Report]:
    """Every jurisdiction at or below `under` that the caller may read composition of."""
    allowed = scope(principal, "read", "composition")
    places = [j for j in await list_jurisdictions(under) if allowed.covers(j.path)]
    if not places:
        if not await Jurisdiction.exists(path=under):
            raise NotFound("辖区不存在", "No such jurisdiction", field="under")
        return []
    by_path = await _counts_by_path(under)
    return [Report(j, composition(_rolled_up(j.path, by_path))) for j in places]


async def composition_report(principal: Principal, path: str) -> Report:
    place = await jurisdiction_in_scope(principal, "read", "composition", path)
    return Report(place, composition(await counts_for(path)))


def with_person(counts: Counts, person: Person) -> Counts:
    """The counts as they would be with one more active supervisor like `person`."""
    return counts.plus(Counts(1, {person.category: 1}, int(person.is_small_micro),
                              int(person.is_npc_deputy), int(person.is_cppcc_member)))
