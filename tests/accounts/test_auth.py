"""Sign-in, tokens, refresh rotation and reuse detection, sign-out, throttling, API keys."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import jwt

from core import auth, clock
from core.accounts import service as accounts
from core.accounts.models import ApiKey, RefreshToken, Session
from core.accounts.service import purge_sessions
from core.audit import AuditRecord
from core.config import ROOT, settings
from core.throttle import ThrottleHit
from tests.support import DEMO_PASSWORD, Api

ME = "{ me { username kind homeJurisdiction { path } grants { role domain } } }"
REFRESH = """mutation($t: String!) { refreshToken(token: $t) { accessToken refreshToken } }"""


async def test_login_returns_short_lived_signed_tokens(api: Api, demo: None) -> None:
    data = (await api.login("admin.dc")).ok()["login"]
    assert data["account"] == {"username": "admin.dc", "kind": "STAFF"}
    assert 0 < data["expiresIn"] <= 900
    header = jwt.get_unverified_header(data["accessToken"])
    assert header["alg"] == "HS256"
    me = (await api.gql(ME, token=data["accessToken"])).ok()["me"]
    assert me["username"] == "admin.dc"
    assert me["homeJurisdiction"] == {"path": "jl.th.dc"}
    assert {"role": "office_admin", "domain": "jl.th.dc"} in me["grants"]
    assert {"role": "oversight_reader", "domain": "jl.th.**"} in me["grants"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(api: Api, demo: None) -> None:
    wrong = await api.login("admin.dc", "not-the-password")
    unknown = await api.login("nobody.here", "not-the-password")
    assert wrong.codes == unknown.codes == ["UNAUTHENTICATED"]
    assert wrong.errors[0]["message"] == unknown.errors[0]["message"]
    assert await ThrottleHit.filter(bucket="login.account").count() == 2


async def test_anonymous_caller_gets_unauthenticated(api: Api, demo: None) -> None:
    for query in (ME, "{ accounts { totalCount } }", 'mutation { logout }'):
        assert (await api.gql(query)).codes == ["UNAUTHENTICATED"], query


async def test_expired_forged_and_alg_none_tokens_are_refused(api: Api, demo: None) -> None:
    good = await api.token("admin.dc")
    claims = jwt.decode(good, options={"verify_signature": False})
    expired_claims = {**claims, "iat": claims["iat"] - 3600, "exp": claims["exp"] - 3600}
    expired = jwt.encode(expired_claims, settings().signing_key(), algorithm="HS256")
    forged = jwt.encode(claims, "someone-elses-key-of-enough-length-32", algorithm="HS256")
    unsigned = jwt.encode(claims, "", algorithm="none")
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for token in (expired, forged, unsigned, tampered, "garbage"):
        assert (await api.gql(ME, token=token)).codes == ["UNAUTHENTICATED"], token
    assert (await api.gql(ME, token=good)).ok()


async def test_access_token_stops_working_after_fifteen_minutes(api: Api, demo: None) -> None:
    token = await api.token("admin.dc")
    assert (await api.gql(ME, token=token)).ok()
    later = clock.now() + timedelta(seconds=901)
    clock.set_source(lambda: later)
    assert (await api.gql(ME, token=token)).codes == ["UNAUTHENTICATED"]


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api, demo: None) -> None:
    first = (await api.login("admin.dc")).ok()["login"]
    second = (await api.gql(REFRESH, {"t": first["refreshToken"]})).ok()["refreshToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await api.gql(ME, token=second["accessToken"])).ok()
    # the spent token comes back: a thief or a replay. The whole family dies.
    replay = await api.gql(REFRESH, {"t": first["refreshToken"]})
    assert replay.codes == ["UNAUTHENTICATED"]
    assert (await api.gql(REFRESH, {"t": second["refreshToken"]})).codes == ["UNAUTHENTICATED"]
    assert (await api.gql(ME, token=second["accessToken"])).codes == ["UNAUTHENTICATED"]
    assert (await api.gql(ME, token=first["accessToken"])).codes == ["UNAUTHENTICATED"]
    session = await Session.get(account__username="admin.dc")
    assert session.revoked_reason == "reuse"


async def test_expired_refresh_token_is_refused(api: Api, demo: None) -> None:
    first = (await api.login("admin.dc")).ok()["login"]
    later = clock.now() + timedelta(seconds=settings().refresh_token_ttl + 1)
    clock.set_source(lambda: later)
    assert (await api.gql(REFRESH, {"t": first["refreshToken"]})).codes == ["UNAUTHENTICATED"]


async def test_sign_ins_nothing_can_use_are_purged(api: Api, demo: None) -> None:
    """A refresh TTL (30 days) past its tokens' expiry, what is left of a sign-in goes: its
    tokens, then its session. Until then a spent token, presented again, still revokes its
    session; a sign-in in use stays."""
    ttl = timedelta(seconds=settings().refresh_token_ttl)
    start = clock.now()
    old = (await api.login("admin.dc")).ok()["login"]
    (await api.gql(REFRESH, {"t": old["refreshToken"]})).ok()  # the first token spent
    expired = start + ttl + timedelta(days=1)
    clock.set_source(lambda: expired)
    assert await purge_sessions() == 0
    assert await RefreshToken.filter(session__account__username="admin.dc").count() == 2
    recent = (await api.login("admin.edj")).ok()["login"]
    later = start + 2 * ttl + timedelta(minutes=1)
    clock.set_source(lambda: later)

    assert await purge_sessions() == 1

    assert await Session.all().values_list("account__username", flat=True) == ["admin.edj"]
    assert await RefreshToken.filter(session__account__username="admin.dc").count() == 0
    assert (await api.gql(REFRESH, {"t": recent["refreshToken"]})).ok()
    assert (await api.gql(REFRESH, {"t": old["refreshToken"]})).codes == ["UNAUTHENTICATED"]
    assert await purge_sessions() == 0


async def test_logout_ends_access_and_refresh(api: Api, demo: None) -> None:
    pair = (await api.login("admin.dc")).ok()["login"]
    assert (await api.gql("mutation { logout }", token=pair["accessToken"])).ok() == {
        "logout": True}
    assert (await api.gql(ME, token=pair["accessToken"])).codes == ["UNAUTHENTICATED"]
    assert (await api.gql(REFRESH, {"t": pair["refreshToken"]})).codes == ["UNAUTHENTICATED"]


async def test_failed_logins_are_throttled_per_account(api: Api, demo: None) -> None:
    for _ in range(5):
        assert (await api.login("admin.dc", "wrong-password")).codes == ["UNAUTHENTICATED"]
    # now even the right password is refused, with a generic message
    throttled = await api.login("admin.dc")
    assert throttled.codes == ["RATE_LIMITED"]
    # another account is unaffected (the address has not reached its own limit)
    assert (await api.login("admin.edj")).ok()
    # after the window the account may try again
    later = clock.now() + timedelta(minutes=16)
    clock.set_source(lambda: later)
    assert (await api.login("admin.dc")).ok()


async def test_failed_logins_lock_an_account_from_that_address_only(api: Api, demo: None
                                                                     ) -> None:
    """Five wrong passwords from one address do not lock the account out for everyone; the
    account's own ceiling, over all addresses, is higher."""
    for _ in range(accounts.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        await api.login("admin.dc", "wrong-password")
    assert (await api.login("admin.dc")).codes == ["RATE_LIMITED"]
    async with _client_at("198.51.100.9") as elsewhere:
        assert (await elsewhere.login("admin.dc")).ok()
    failures = accounts.MAX_FAILURES_PER_ACCOUNT - accounts.MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
    for n in range(failures):
        async with _client_at(f"198.51.100.{100 + n // 4}") as guesser:
            await guesser.login("admin.dc", "wrong-password")
    async with _client_at("198.51.100.9") as elsewhere:
        assert (await elsewhere.login("admin.dc")).codes == ["RATE_LIMITED"]


async def test_concurrent_sign_ins_check_no_more_passwords_than_the_limit(
        api: Api, demo: None) -> None:
    """Twenty sign-ins at once, nineteen wrong and the right one among them: five are
    checked against the password, fifteen refused unchecked."""
    attempts = ["wrong-password"] * 19
    attempts.insert(13, DEMO_PASSWORD)
    results = await asyncio.gather(*(api.login("admin.dc", p) for p in attempts))
    codes = [r.codes for r in results]
    assert codes.count(["RATE_LIMITED"]) == 15, codes
    checked = [r for r in results if r.codes != ["RATE_LIMITED"]]
    assert len(checked) == 5
    assert await AuditRecord.filter(action="login.failed").count() == sum(
        1 for r in checked if r.codes == ["UNAUTHENTICATED"])


@asynccontextmanager
async def _client_at(address: str) -> AsyncIterator[Api]:
    from asgi import create_app

    transport = httpx.ASGITransport(app=create_app(manage_database=False),
                                    client=(address, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client)


async def test_failed_logins_are_throttled_per_address(api: Api, demo: None) -> None:
    for i in range(20):
        await api.login(f"guess{i:02d}", "wrong-password")
    assert (await api.login("admin.edj")).codes == ["RATE_LIMITED"]


async def test_province_api_key_authenticates_and_can_be_revoked(api: Api, demo: None) -> None:
    key = (settings().data_dir / "province.key").read_text().strip()
    me = (await api.gql(ME, api_key=key)).ok()["me"]
    assert me["username"] == "province" and me["kind"] == "SERVICE"
    assert me["grants"] == [{"role": "province_integrator", "domain": "jl.**"}]
    stored = await ApiKey.get(account__username="province")
    assert key not in (stored.key_hash, stored.prefix) and stored.key_hash == auth.sha256(key)
    assert (await api.gql(ME, api_key=key[:-2] + "xx")).codes == ["UNAUTHENTICATED"]
    stored.revoked_at = clock.now()
    await stored.save()
    assert (await api.gql(ME, api_key=key)).codes == ["UNAUTHENTICATED"]


async def test_api_keys_through_graphql(api: Api, demo: None) -> None:
    created = await api.gql(
        'mutation { createAccount(username: "dc.feed", kind: SERVICE, homePath: "jl.th.dc") '
        "{ username } }", as_user="admin.dc")
    assert created.ok()
    issued = (await api.gql('mutation { createApiKey(username: "dc.feed", name: "feed") '
                            "{ id key } }", as_user="admin.dc")).ok()["createApiKey"]
    assert (await api.gql(ME, api_key=issued["key"])).ok()["me"]["username"] == "dc.feed"
    # another county's office cannot see the account, nor revoke its key
    other = await api.gql(f'mutation {{ revokeApiKey(id: "{issued["id"]}") }}',
                          as_user="admin.edj")
    assert other.codes == ["NOT_FOUND"]
    assert (await api.gql(ME, api_key=issued["key"])).ok()
    revoked = await api.gql(f'mutation {{ revokeApiKey(id: "{issued["id"]}") }}',
                            as_user="admin.dc")
    assert revoked.ok() == {"revokeApiKey": True}
    assert (await api.gql(ME, api_key=issued["key"])).codes == ["UNAUTHENTICATED"]


async def test_passwords_are_argon2id_with_owasp_parameters(demo: None) -> None:
    from core.accounts.models import Account

    stored = (await Account.get(username="admin.dc")).password_hash
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_an_api_key_is_revoked_by_its_own_account_or_the_operator(
        api: Api, demo: None, database_url: str) -> None:
    """The province's key could be revoked by nobody (no office manages `jl`): its own account
    revokes it through the API, the operator through the CLI; neither key works after."""
    _, first = await accounts.create_api_key(None, "province", "gateway-1")
    _, second = await accounts.create_api_key(None, "province", "gateway-2")
    keys = {k.name: k.id for k in await accounts.api_keys(None, "province")}
    assert (await api.gql(ME, api_key=first)).ok()["me"]["username"] == "province"
    office = await api.gql(f'mutation {{ revokeApiKey(id: "{keys["gateway-1"]}") }}',
                           as_user="admin.dc")
    assert office.codes == ["NOT_FOUND"]
    own = await api.gql(f'mutation {{ revokeApiKey(id: "{keys["gateway-1"]}") }}',
                        api_key=second)
    assert own.ok()["revokeApiKey"] is True
    assert (await api.gql(ME, api_key=first)).codes == ["UNAUTHENTICATED"]
    env = {**os.environ, "DATABASE_URL": database_url}
    listed = subprocess.run([sys.executable, "-m", "core", "api-keys", "province"], env=env,
                            capture_output=True, text=True, check=True, cwd=ROOT)
    assert "gateway-2\t" in listed.stdout and "revoked" in listed.stdout
    subprocess.run([sys.executable, "-m", "core", "revoke-api-key", str(keys["gateway-2"])],
                   env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    assert (await api.gql(ME, api_key=second)).codes == ["UNAUTHENTICATED"]
