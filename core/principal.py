"""Principal: who is calling, as resolved from a bearer token or API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from core.audit import Actor


class AccountKind(StrEnum):
    """What signs in: office staff, a supervisor, an agency's staff, or a system."""

    STAFF = "STAFF"
    SUPERVISOR = "SUPERVISOR"
    AGENCY = "AGENCY"
    SERVICE = "SERVICE"


@dataclass(frozen=True)
class Principal:
    account_id: int
    username: str
    kind: AccountKind
    home_path: str
    session_id: uuid.UUID | None = None  # None for API keys

    @property
    def subject(self) -> str:
        """The Casbin subject of this account."""
        return subject(self.account_id)

    @property
    def actor(self) -> Actor:
        """How the audit trail names this principal."""
        return Actor(self.account_id, self.username)


def subject(account_id: int) -> str:
    return f"a:{account_id}"
