"""The in-process principal cache: a known credential is not looked up again, and it is
refused as soon as its session, account or key changes in the database, whoever changes it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from asgi import listener_for
from core import clock
from core.accounts import principals
from core.config import settings
from tests.support import Api, QueryCounter, eventually

ME = "{ me { username } }"


def _reads_credentials(counter: QueryCounter) -> bool:
    return any('"session"' in s or '"api_key"' in s for s in counter.statements)


async def _refused_soon(api: Api, token: str | None = None, api_key: str | None = None) -> bool:
    """Whether the credential is refused within a few seconds (the notice's way back)."""
    async def refused() -> bool:
        return (await api.gql(ME, token=token, api_key=api_key)).codes == ["UNAUTHENTICATED"]

    return await eventually(refused)


async def test_known_token_is_not_looked_up_again(api: Api, demo: None, listening: None) -> None:
    token = await api.token("admin.dc")
    with QueryCounter() as first:
        assert (await api.gql(ME, token=token)).ok()["me"]["username"] == "admin.dc"
    with QueryCounter() as second:
        assert (await api.gql(ME, token=token)).ok()["me"]["username"] == "admin.dc"
    assert _reads_credentials(first) and not _reads_credentials(second)


@pytest.mark.parametrize("change", [
    "UPDATE session SET revoked_at = now() WHERE account_id = "
    "(SELECT id FROM account WHERE username = 'admin.dc')",
    "UPDATE account SET is_active = false WHERE username = 'admin.dc'",
    "UPDATE account SET home_id = (SELECT id FROM jurisdiction WHERE path = 'jl.th.ja') "
    "WHERE username = 'admin.dc'",
])
async def test_change_made_elsewhere_reaches_the_cache(api: Api, demo: None, listening: None,
                                                       owner: asyncpg.Connection,
                                                       change: str) -> None:
    token = await api.token("admin.dc")
    assert (await api.gql(ME, token=token)).ok()
    assert len(principals.cache) == 1
    await owner.execute(change)  # as an operator would, outside the application
    async def forgotten() -> bool:
        return len(principals.cache) == 0

    await eventually(forgotten)
    assert len(principals.cache) == 0
    answer = await api.gql("{ me { username homeJurisdiction { path } } }", token=token)
    assert answer.codes == ["UNAUTHENTICATED"] or (
        answer.ok()["me"]["homeJurisdiction"]["path"] == "jl.th.ja")


async def test_logout_and_key_revocation_refuse_at_once(api: Api, demo: None, listening: None,
                                                        owner: asyncpg.Connection) -> None:
    token = await api.token("admin.dc")
    assert (await api.gql(ME, token=token)).ok()
    assert (await api.gql("mutation { logout }", token=token)).ok()
    assert await _refused_soon(api, token=token)
    key = (settings().data_dir / "province.key").read_text().strip()
    assert (await api.gql(ME, api_key=key)).ok()["me"]["username"] == "province"
    await owner.execute("UPDATE api_key SET revoked_at = now() WHERE account_id = "
                        "(SELECT id FROM account WHERE username = 'province')")
    assert await _refused_soon(api, api_key=key)


async def test_cached_token_still_expires(api: Api, demo: None, listening: None) -> None:
    token = await api.token("admin.dc")
    assert (await api.gql(ME, token=token)).ok()
    later = clock.now() + timedelta(seconds=settings().access_token_ttl + 1)
    clock.set_source(lambda: later)
    assert (await api.gql(ME, token=token)).codes == ["UNAUTHENTICATED"]


async def test_nothing_is_kept_while_not_listening(api: Api, database_url: str,
                                                   demo: None) -> None:
    listener = listener_for(database_url)
    listener.start()
    await asyncio.wait_for(listener.connected.wait(), timeout=10)
    token = await api.token("admin.dc")
    assert (await api.gql(ME, token=token)).ok() and len(principals.cache) == 1
    await listener.stop()
    assert len(principals.cache) == 0
    with QueryCounter() as counter:
        assert (await api.gql(ME, token=token)).ok()
    assert _reads_credentials(counter) and len(principals.cache) == 0
