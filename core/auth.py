"""Credentials: argon2id password hashes, signed access tokens, opaque refresh tokens and API keys.

Invariants: access tokens are HS256 JWTs verified with that one algorithm pinned (so `alg: none`
and algorithm confusion are refused) and live at most 15 minutes; refresh tokens and API keys
are random strings of which only a sha256 is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core import clock
from core.config import settings

ALGORITHM = "HS256"
ISSUER = "supervisor-platform"
# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (argon2 runs off the event loop)."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    account_id: int
    session_id: uuid.UUID
    expires_at: float  # POSIX seconds


def issue_access_token(account_id: int, session_id: uuid.UUID) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    ttl = settings().access_token_ttl
    issued = clock.now()
    claims = {
        "iss": ISSUER, "sub": str(account_id), "sid": str(session_id), "typ": "access",
        "iat": issued, "exp": issued + timedelta(seconds=ttl),
    }
    return jwt.encode(claims, settings().signing_key(), algorithm=ALGORITHM), ttl


def read_access_token(token: str) -> AccessClaims | None:
    """The claims of a valid token; None for an expired, forged, malformed or foreign one."""
    try:
        # Expiry is checked against core.clock (the platform's one time source), not PyJWT's.
        claims = jwt.decode(
            token, settings().signing_key(), algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss"], "verify_exp": False,
                     "verify_iat": False},
        )
        if claims.get("typ") != "access" or claims["exp"] <= clock.now().timestamp():
            return None
        return AccessClaims(int(claims["sub"]), uuid.UUID(claims["sid"]), float(claims["exp"]))
    except (jwt.PyJWTError, ValueError):
        return None


def new_refresh_token() -> str:
    return "rt_" + secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """A fresh API key and its lookup prefix: `sk_<prefix>_<secret>`."""
    prefix = secrets.token_hex(6)
    return f"sk_{prefix}_{secrets.token_urlsafe(32)}", prefix


def api_key_prefix(key: str) -> str | None:
    parts = key.split("_")
    return parts[1] if len(parts) >= 3 and parts[0] == "sk" and len(parts[1]) == 12 else None


def same_hash(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(sha256(key), stored_hash)
