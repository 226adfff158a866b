"""Accounts and their credentials: sessions (refresh-token families), API keys, login attempts."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.principal import AccountKind
from tenants.models import Jurisdiction


class Account(Model):
    """Someone (or a system) who signs in; `home` is the jurisdiction the account belongs to."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=100, default="")
    kind = fields.CharEnumField(AccountKind, max_length=16)
    home: fields.ForeignKeyRelation[Jurisdiction] = fields.ForeignKeyField(
        "models.Jurisdiction", related_name="accounts", on_delete=fields.RESTRICT
    )
    home_id: int  # set by Tortoise from `home`
    password_hash = fields.CharField(max_length=255, null=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"


class Session(Model):
    """One sign-in: the family of refresh tokens it rotates through. Revoking it ends them all."""

    id = fields.UUIDField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sessions", on_delete=fields.CASCADE
    )
    account_id: int  # set by Tortoise from `account`
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "session"


class RefreshToken(Model):
    """A single-use refresh token, stored as its sha256; `used_at` marks it spent."""

    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[Session] = fields.ForeignKeyField(
        "models.Session", related_name="refresh_tokens", on_delete=fields.CASCADE
    )
    session_id: int  # set by Tortoise from `session`
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_token"


class ApiKey(Model):
    """A SERVICE account's key (`Authorization: ApiKey <key>`), stored as its sha256."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="api_keys", on_delete=fields.CASCADE
    )
    account_id: int  # set by Tortoise from `account`
    name = fields.CharField(max_length=100)
    prefix = fields.CharField(max_length=16, unique=True)
    key_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
