"""Sign-in, token rotation, sign-out, API keys, and the accounts an office manages."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from core import audit, auth, clock, orm, throttle
from core.accounts import principals
from core.accounts.models import Account, ApiKey, RefreshToken, Session
from core.config import settings
from core.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from core.pagination import Page, keyset
from core.principal import AccountKind, Principal
from core.validation import has_hidden_characters
from policies.access import authorize, scope
from tenants.directory import jurisdictions
from tenants.models import Jurisdiction

# Failed sign-ins counted in a window: of one account from one address (a guesser), of one
# account from anywhere (a higher ceiling: five wrong passwords from anywhere must not lock an
# account out for everyone), and from one address.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ACCOUNT = 50
MAX_FAILURES_PER_ADDRESS = 20
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_BAD_LOGIN = Unauthenticated("用户名或密码错误", "Wrong username or password")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    account: Account


async def login(username: str, password: str, address: str) -> TokenPair:
    """Check a password and open a session. Failures are throttled per account and per address,
    and every answer to a wrong name or password is the same."""
    username = username.strip().lower()[:128]
    # Each attempt is counted as a failure before its password is checked, atomically, and
    # taken back when it succeeds: twenty attempts at once check five passwords, not twenty.
    reserved = await throttle.reserve(
        [("login.account_address", f"{address} {username}"[:128],
          MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS),
         ("login.account", username, MAX_FAILURES_PER_ACCOUNT),
         ("login.address", address, MAX_FAILURES_PER_ADDRESS)], THROTTLE_WINDOW)
    account = await Account.get_or_none(username=username).prefetch_related("home")
    ok = await auth.verify_password(account.password_hash if account else None, password)
    if not ok or account is None or not account.is_active:
        await audit.record(audit.Actor(None, username), "login.failed",
                           detail={"address": address})
        raise _BAD_LOGIN
    await throttle.release(reserved)
    async with in_transaction():
        session = await Session.create(id=uuid.uuid4(), account=account, created_at=clock.now())
        refresh = await _issue_refresh(session)
        await audit.record(audit.Actor(account.id, account.username), "login",
                           target_type="account", target_id=account.id,
                           jurisdiction=account.home.path, detail={"address": address})
    access, ttl = auth.issue_access_token(account.id, session.id)
    return TokenPair(access, refresh, ttl, account)


async def _issue_refresh(session: Session) -> str:
    token = auth.new_refresh_token()
    await RefreshToken.create(
        session=session, token_hash=auth.sha256(token),
        expires_at=clock.now() + timedelta(seconds=settings().refresh_token_ttl),
    )
    return token


async def refresh(token: str) -> TokenPair:
    """Rotate: spend this refresh token for a new pair. Presenting a spent token again means it
    was stolen or replayed, so the whole family (the session) is revoked."""
    async with in_transaction():
        found = (
            await RefreshToken.filter(token_hash=auth.sha256(token))
            .select_for_update()
            .prefetch_related("session__account__home")
            .first()
        )
        if found is None:
            raise Unauthenticated("刷新令牌无效", "Invalid refresh token", field="token")
        session: Session = found.session
        account: Account = session.account
        now = clock.now()
        if found.used_at is not None and session.revoked_at is None:
            session.revoked_at, session.revoked_reason = now, "reuse"
            await session.save(update_fields=["revoked_at", "revoked_reason"])
            await audit.record(audit.Actor(account.id, account.username), "session.revoke_reuse",
                               target_type="session", target_id=session.id,
                               jurisdiction=account.home.path)
    # Outside the block so the revocation above commits before the refusal.
    if found.used_at is not None or session.revoked_at is not None:
        raise Unauthenticated("刷新令牌已失效", "Refresh token revoked", field="token")
    if found.expires_at <= now or not account.is_active:
        raise Unauthenticated("刷新令牌已过期", "Refresh token expired", field="token")
    async with in_transaction():
        spent = await RefreshToken.filter(id=found.id, used_at__isnull=True).update(used_at=now)
        if not spent:  # a concurrent refresh won the race with the same token
            raise Unauthenticated("刷新令牌已失效", "Refresh token revoked", field="token")
        new_token = await _issue_refresh(session)
        await audit.record(audit.Actor(account.id, account.username), "session.refresh",
                           target_type="session", target_id=session.id,
                           jurisdiction=account.home.path)
    access, ttl = auth.issue_access_token(account.id, session.id)
    return TokenPair(access, new_token, ttl, account)


async def logout(principal: Principal) -> None:
    """End the caller's session: its refresh tokens and access tokens stop working."""
    if principal.session_id is None:
        raise InvalidInput("API 密钥没有会话", "API keys have no session to end")
    async with in_transaction():
        await Session.filter(id=principal.session_id, revoked_at__isnull=True).update(
            revoked_at=clock.now(), revoked_reason="logout"
        )
        await audit.record(principal.actor, "logout", target_type="session",
                           target_id=principal.session_id, jurisdiction=principal.home_path)


async def principal_from_token(token: str) -> tuple[Principal, float]:
    """The principal of a valid access token whose session is open and account active, and
    when the token expires."""
    claims = auth.read_access_token(token)
    if claims is None:
        raise Unauthenticated("访问令牌无效或已过期", "Invalid or expired access token")
    session = (
        await Session.filter(id=claims.session_id, account_id=claims.account_id,
                             revoked_at__isnull=True, account__is_active=True)
        .select_related("account__home")
        .first()
    )
    if session is None:
        raise Unauthenticated("会话已结束", "Session ended")
    account: Account = session.account
    principal = Principal(account.id, account.username, account.kind, account.home.path,
                          session.id)
    return principal, claims.expires_at


async def principal_from_api_key(key: str) -> Principal:
    prefix = auth.api_key_prefix(key)
    found = (
        await ApiKey.filter(prefix=prefix, revoked_at__isnull=True, account__is_active=True)
        .select_related("account__home")
        .first()
        if prefix
        else None
    )
    if found is None or not auth.same_hash(key, found.key_hash):
        raise Unauthenticated("API 密钥无效", "Invalid API key")
    account: Account = found.account
    return Principal(account.id, account.username, account.kind, account.home.path)


async def principal_from_authorization(header: str | None) -> Principal | None:
    """The caller named by an `Authorization` header (`Bearer <token>` or `ApiKey <key>`);
    None without one; UNAUTHENTICATED for a bad one. Kept in memory per credential
    (core/accounts/principals.py)."""
    if not header:
        return None
    scheme, _, credential = header.partition(" ")
    scheme, credential = scheme.lower(), credential.strip()
    kept = f"{scheme} {credential}"
    known = principals.cache.get(kept)
    if known is not None:
        return known
    generation = principals.cache.generation  # before reading: a notice since voids the read
    expires_at: float | None = None
    if scheme == "bearer" and credential:
        principal, expires_at = await principal_from_token(credential)
    elif scheme == "apikey" and credential:
        principal = await principal_from_api_key(credential)
    else:
        raise Unauthenticated("不支持的认证方式", "Unsupported Authorization scheme")
    principals.cache.put(kept, principal, generation, expires_at)
    return principal


def _check_username(username: str) -> str:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput("用户名须为3至64位小写字母、数字、点、横线或下划线",
                           "Username: 3-64 lowercase letters, digits, '.', '-' or '_'",
                           field="username")
    return username


def _check_password(password: str) -> None:
    if not 10 <= len(password) <= 128:
        raise InvalidInput("密码长度须为10至128位", "Password must be 10 to 128 characters",
                           field="password")
    if has_hidden_characters(password):
        raise InvalidInput("密码不能含控制字符或格式字符",
                           "The password contains control or format characters",
                           field="password")


async def create_account(
    principal: Principal | None, *, username: str, display_name: str, kind: AccountKind,
    home_path: str, password: str | None, prehashed: str | None = None,
) -> Account:
    """Create an account at `home_path` (account:create there). `principal` None is the CLI or
    the demo seed, which run as the operator of the machine; the seed passes one `prehashed`
    hash of the shared demo password instead of paying argon2 for every account."""
    home = await jurisdictions.by_path(home_path)
    if home is None:
        raise NotFound("辖区不存在", "No such jurisdiction", field="home")
    if principal is not None:
        authorize(principal, "create", "account", home.path)
    actor = principal.actor if principal else audit.SYSTEM
    async with in_transaction():
        return await open_account(actor, username=username, display_name=display_name,
                                  kind=kind, home=home, password=password, prehashed=prehashed)


async def open_account(
    actor: audit.Actor, *, username: str, display_name: str, kind: AccountKind,
    home: Jurisdiction, password: str | None, prehashed: str | None = None,
) -> Account:
    """Validate and insert an account; the caller has authorized the act that needs it (an
    office creating staff, an office approving an application) and holds the transaction."""
    username = _check_username(username)
    if kind is AccountKind.SERVICE:
        if password is not None:
            raise InvalidInput("服务账号使用 API 密钥，不设密码",
                               "Service accounts use API keys, not passwords", field="password")
    elif prehashed is not None:
        pass
    elif password is None:
        raise InvalidInput("须设置密码", "A password is required", field="password")
    else:
        _check_password(password)
    display_name = display_name.strip()
    if len(display_name) > 100:
        raise InvalidInput("显示名称最长100字", "Display name: at most 100 characters",
                           field="displayName")
    password_hash = prehashed or (await auth.hash_password(password) if password else None)
    if await Account.exists(username=username):
        raise Conflict("用户名已被使用", "Username taken", field="username")
    account = await Account.create(username=username, display_name=display_name, kind=kind,
                                   home=home, password_hash=password_hash)
    await audit.record(actor, "account.create", target_type="account", target_id=account.id,
                       jurisdiction=home.path, detail={"username": username, "kind": kind.value})
    return account


async def list_accounts(principal: Principal, first: int, after: int | None) -> Page[Account]:
    """Accounts whose home lies in the caller's account:read scope."""
    allowed = scope(principal, "read", "account")
    query = Account.filter(allowed.filter("home__path"))
    return await keyset(query, first, after)


async def get_account(principal: Principal, username: str) -> Account:
    """One account in the caller's scope; outside it, NOT_FOUND."""
    allowed = scope(principal, "read", "account")
    found = await Account.filter(allowed.filter("home__path"), username=username.strip().lower()
                                 ).prefetch_related("home").first()
    if found is None:
        raise NotFound("账号不存在", "No such account", field="username")
    return found


async def create_api_key(principal: Principal | None, username: str, name: str
                         ) -> tuple[ApiKey, str]:
    """A new key for a SERVICE account (account:manage at its home); the key is shown once."""
    account = (await get_account(principal, username) if principal
               else await Account.get_or_none(username=username).prefetch_related("home"))
    if account is None:
        raise NotFound("账号不存在", "No such account", field="username")
    if principal is not None:
        authorize(principal, "manage", "account", account.home.path)
    if account.kind is not AccountKind.SERVICE:
        raise InvalidInput("只有服务账号可以使用 API 密钥", "Only service accounts hold API keys",
                           field="username")
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("名称长度须为1至100字", "Name must be 1 to 100 characters", field="name")
    key, prefix = auth.new_api_key()
    async with in_transaction():
        created = await ApiKey.create(account=account, name=name, prefix=prefix,
                                      key_hash=auth.sha256(key), created_at=clock.now())
        await audit.record(principal.actor if principal else audit.SYSTEM,
                           "api_key.create", target_type="api_key", target_id=created.id,
                           jurisdiction=account.home.path, detail={"name": name})
    return created, key


async def api_keys(principal: Principal | None, username: str) -> list[ApiKey]:
    """A SERVICE account's keys, newest first (the operator's CLI, or account:read)."""
    account = (await get_account(principal, username) if principal
               else await Account.get_or_none(username=username.strip().lower()))
    if account is None:
        raise NotFound("账号不存在", "No such account", field="username")
    return await ApiKey.filter(account_id=account.id).order_by("-id")


async def revoke_api_key(principal: Principal | None, key_id: int) -> ApiKey:
    """Revoke a key at once: by its own account (a gateway rotating its key), by account:manage
    at its account's home, or by the operator's CLI (principal None). Every process stops
    taking it within a notice's way (the principal cache), and its sockets close."""
    found = await ApiKey.filter(id=key_id).prefetch_related("account__home").first()
    if found is not None and principal is not None and \
            found.account_id != principal.account_id:
        allowed = scope(principal, "manage", "account")
        if not allowed.covers(found.account.home.path):
            found = None
    if found is None:
        raise NotFound("API 密钥不存在", "No such API key", field="id")
    async with in_transaction():
        if found.revoked_at is None:
            found.revoked_at = clock.now()
            await found.save(update_fields=["revoked_at"])
        await audit.record(principal.actor if principal else audit.SYSTEM, "api_key.revoke",
                           target_type="api_key", target_id=found.id,
                           jurisdiction=found.account.home.path)
    return found


# Sessions without a refresh token left, begun before the cutoff (a session's first token is
# made with it, so all of its tokens have lapsed a refresh TTL ago).
_ENDED_SESSIONS = """
DELETE FROM session s WHERE s.created_at < $1
AND NOT EXISTS (SELECT 1 FROM refresh_token r WHERE r.session_id = s.id) RETURNING s.id"""


async def purge_sessions() -> int:
    """Delete what no sign-in can use any more: refresh tokens a refresh TTL past their expiry
    (until then a spent one presented again still revokes its session), then the sessions
    left without any; how many sessions. Sign-ins and their ends stay in the audit trail."""
    cutoff = clock.now() - timedelta(seconds=settings().refresh_token_ttl)
    async with in_transaction():
        await RefreshToken.filter(expires_at__lt=cutoff).delete()
        ended = await orm.client().execute_query_dict(_ENDED_SESSIONS, [cutoff])
    return len(ended)
