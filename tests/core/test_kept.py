"""Supervisor and agency records and agency staff links kept in process memory
(core/kept.py): read once while the process listens, dropped the moment the database says
their table changed, never used while nobody listens."""

from __future__ import annotations

from typing import Any

import asyncpg

from core.accounts.models import Account
from core.agencies import service as agencies
from core.kept import Kept
from core.principal import Principal
from core.roster import service as roster
from tests.cases.helpers import SUBMIT, agency_id, submit, to_transferred
from tests.support import Api, QueryCounter, eventually

ONLY_ID = "mutation($input: CaseInput!) { submitCase(input: $input) { id } }"


def _reads(counter: QueryCounter, table: str) -> bool:
    return any(f'FROM "{table}"' in s for s in counter.statements)


async def test_a_submission_reads_neither_record_again(api: Api, full_demo: None,
                                                       listening: None) -> None:
    variables = {"input": {"kind": "REPORT", "category": "EFFICIENCY",
                           "agency": await agency_id("dc"), "title": "t", "description": "d",
                           "occurredAt": "2026-01-01T00:00:00Z"}}
    first = (await api.gql(ONLY_ID, variables, as_user="sv.dc.001")).ok()["submitCase"]
    with QueryCounter() as counter:
        second = (await api.gql(ONLY_ID, variables, as_user="sv.dc.001")).ok()["submitCase"]
    assert int(second["id"]) > int(first["id"])
    # the submission's one statement (core/writes.py) is all it sends, but for case keys
    # taken ahead when the process has none left
    sent = [s for s in counter.statements if "nextval(" not in s]
    assert len(sent) == 1 and sent[0].startswith("WITH w0 AS ("), counter.statements
    assert roster.own_records.listening and len(roster.own_records) == 1
    assert len(agencies.kept) == 1


async def test_nothing_is_kept_while_not_listening(api: Api, full_demo: None) -> None:
    await submit(api)
    with QueryCounter() as counter:
        await submit(api)
    assert _reads(counter, "supervisor") and _reads(counter, "agency")
    assert len(roster.own_records) == 0 and len(agencies.kept) == 0


async def test_a_supervisor_changed_elsewhere_is_seen(api: Api, full_demo: None,
                                                      listening: None,
                                                      owner: asyncpg.Connection) -> None:
    await submit(api)
    await owner.execute("UPDATE supervisor SET status = 'DISMISSED' FROM account "
                        "WHERE account.id = supervisor.account_id AND username = 'sv.dc.001'")
    variables = {"input": {"kind": "REPORT", "category": "EFFICIENCY",
                           "agency": await agency_id("dc"), "title": "t", "description": "d",
                           "occurredAt": "2026-01-01T00:00:00Z"}}

    async def refused() -> bool:
        result = await api.gql(SUBMIT, variables, as_user="sv.dc.001")
        return result.codes == ["RULE_VIOLATION"]

    assert await eventually(refused)
    # a dismissed supervisor no longer submits, and a refused submission writes nothing
    cases = await owner.fetchval("SELECT count(*) FROM supervision_case")
    assert await refused()
    assert await owner.fetchval("SELECT count(*) FROM supervision_case") == cases


async def test_an_agency_changed_elsewhere_is_seen(api: Api, full_demo: None, listening: None,
                                                   owner: asyncpg.Connection) -> None:
    assert (await submit(api))["agency"]["name"] != "市场监管新局"
    await owner.execute("UPDATE agency SET name = '市场监管新局' WHERE id = $1",
                        int(await agency_id("dc")))

    async def renamed() -> bool:
        return bool((await submit(api))["agency"]["name"] == "市场监管新局")

    assert await eventually(renamed)


async def test_an_agency_staff_link_changed_elsewhere_is_seen(
        api: Api, full_demo: None, listening: None, owner: asyncpg.Connection) -> None:
    """Which agency an account works for decides which cases it reads: kept, and a move to
    another agency made in SQL is seen."""
    case = await submit(api)
    await to_transferred(api, case["id"])
    query = "query($id: ID!) { case(id: $id) { id state } }"
    assert (await api.gql(query, {"id": case["id"]}, as_user="ag.dc.scjg")).ok()["case"]
    with QueryCounter() as counter:
        assert (await api.gql(query, {"id": case["id"]}, as_user="ag.dc.scjg")).ok()["case"]
    assert not _reads(counter, "agency_staff") and len(agencies.staff_agency) == 1
    await owner.execute(
        "UPDATE agency_staff SET agency_id = (SELECT id FROM agency WHERE id <> "
        "agency_staff.agency_id ORDER BY id LIMIT 1) FROM account "
        "WHERE account.id = agency_staff.account_id AND username = 'ag.dc.scjg'")

    async def moved() -> bool:
        result = await api.gql(query, {"id": case["id"]}, as_user="ag.dc.scjg")
        return result.codes == ["NOT_FOUND"]

    assert await eventually(moved)


async def test_own_supervisor_hands_out_copies(full_demo: None, listening: None) -> None:
    account = await Account.get(username="sv.dc.001")
    principal = Principal(account.id, account.username, account.kind, "jl.th.dc")
    mine = await roster.own_supervisor(principal)
    original = mine.name
    mine.name = "改过的名字"
    again = await roster.own_supervisor(principal)
    assert again is not mine and again.name == original and again.id == mine.id


async def test_rows_not_found_are_not_kept_and_the_least_recently_used_go_first() -> None:
    reads: list[int] = []

    async def read(key: int) -> Any:
        reads.append(key)
        return None if key < 0 else {"key": key}

    kept: Kept[int, Any] = Kept(read, max_entries=2)
    kept.resume()
    assert await kept.get(-1) is None and await kept.get(-1) is None
    assert reads == [-1, -1] and len(kept) == 0
    for key in (1, 2, 1, 3, 1):
        await kept.get(key)
    assert reads == [-1, -1, 1, 2, 3]  # 3 pushed out 2, the least recently used
    await kept.get(2)
    assert reads == [-1, -1, 1, 2, 3, 2]
    kept.suspend()
    await kept.get(2)
    assert reads[-1] == 2 and len(kept) == 0


async def test_a_row_read_across_a_notice_is_not_kept() -> None:
    kept: Kept[int, str] = Kept(lambda key: _notice_meanwhile(kept, key))
    kept.resume()
    assert await kept.get(1) == "row 1"
    assert len(kept) == 0  # read before the notice: it may be the old row


async def _notice_meanwhile(kept: Kept[int, str], key: int) -> str:
    await kept.on_notice("")
    return f"row {key}"


async def test_a_change_of_the_tree_drops_them_too(api: Api, full_demo: None, listening: None,
                                                   owner: asyncpg.Connection) -> None:
    """Both are kept with their jurisdiction rows: a change of the jurisdiction table (a
    renamed or moved county) drops them with the tree."""
    await submit(api)
    assert len(roster.own_records) == 1 and len(agencies.kept) == 1
    await owner.execute("UPDATE jurisdiction SET name = '东昌新区' WHERE path = 'jl.th.dc'")

    async def dropped() -> bool:
        return len(roster.own_records) == 0 and len(agencies.kept) == 0

    assert await eventually(dropped)
    await submit(api)
    assert len(roster.own_records) == 1 and len(agencies.kept) == 1
