"""DomainError and its subclasses, each with a stable code and a Chinese and English message."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
from tortoise.exceptions import DBConnectionError


def language_from(accept_language: str) -> str:
    """English when the client's Accept-Language starts with it, Chinese otherwise."""
    return "en" if accept_language.lower().startswith("en") else "zh"


class DomainError(Exception):
    """An expected refusal; reaches the client as `extensions.code` (and `extensions.field`)."""

    code = "DOMAIN_ERROR"
    default_zh = "请求无法完成"
    default_en = "The request cannot be completed"

    def __init__(
        self, zh: str | None = None, en: str | None = None, *, field: str | None = None
    ) -> None:
        self.zh = zh or self.default_zh
        self.en = en or self.default_en
        self.field = field
        super().__init__(self.en)

    def message(self, language: str) -> str:
        return self.en if language == "en" else self.zh


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_zh = "请先登录"
    default_en = "Authentication required"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_zh = "无权执行此操作"
    default_en = "You are not allowed to do this"


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_zh = "记录不存在"
    default_en = "Not found"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"
    default_zh = "输入无效"
    default_en = "Invalid input"


class InvalidTransition(DomainError):
    code = "INVALID_TRANSITION"
    default_zh = "当前状态下不能执行此操作"
    default_en = "Not allowed in the current state"


class RuleViolation(DomainError):
    code = "RULE_VIOLATION"
    default_zh = "违反管理办法的规定"
    default_en = "This would break a rule of the Measures"


class Conflict(DomainError):
    code = "CONFLICT"
    default_zh = "记录已存在或已被修改"
    default_en = "Conflicts with existing data"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
    default_zh = "尝试次数过多，请稍后再试"
    default_en = "Too many attempts, try again later"


class ServiceUnavailable(DomainError):
    """The database cannot be reached (restarting, failed over): try again shortly."""

    code = "SERVICE_UNAVAILABLE"
    default_zh = "服务暂时不可用，请稍后再试"
    default_en = "The service is temporarily unavailable, try again shortly"


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """`error` and what caused it, outermost first."""
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def is_database_outage(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is a lost or refused database connection, or what
    it left behind (ServiceUnavailable: the policy not loaded yet)."""
    return any(
        isinstance(e, ServiceUnavailable | OSError | DBConnectionError
                   | asyncpg.PostgresConnectionError
                   | asyncpg.CannotConnectNowError | asyncpg.AdminShutdownError
                   | asyncpg.CrashShutdownError)
        or (isinstance(e, asyncpg.InterfaceError) and "closed" in str(e))
        for e in _chain(error))


def is_duplicate(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is a unique index refusing a second row: two
    requests creating the same thing at once, where the loser's check ran before the
    winner's commit. The caller's answer is CONFLICT, as the check would have given."""
    return any(isinstance(e, asyncpg.UniqueViolationError) for e in _chain(error))


def is_unstorable_value(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is PostgreSQL or asyncpg refusing a value given
    to a statement (class 22, "data exception": a NUL character, a number out of range, a
    string too long): input no service check caught, not a fault of the server."""
    return any(isinstance(e, asyncpg.DataError) for e in _chain(error))
