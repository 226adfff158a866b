"""The principals of credentials seen lately, kept in process memory so that a request does not
read its session and account again (that lookup was a fifth of a list request's time).

An entry lives until its access token expires (at most MAX_AGE_S for API keys) and is dropped
the moment the database says a session, account or API key changed: migration 0006 notifies
CHANNEL from a trigger on those tables, in the changing transaction, whoever changes them. It
answers only while this process listens (events.Mirror).
"""

from __future__ import annotations

from core import clock
from core.events import Mirror
from core.kept import Recent
from core.principal import Principal

CHANNEL = "principal"
MAX_AGE_S = 300
MAX_ENTRIES = 10_000


class PrincipalCache(Mirror):
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        super().__init__()
        self._entries: Recent[str, tuple[Principal, float]] = Recent("principals", max_entries)

    def get(self, credential: str) -> Principal | None:
        if not self.listening:
            return None
        entry = self._entries.get(credential)
        if entry is None:
            return None
        principal, expires_at = entry
        if expires_at <= clock.now().timestamp():
            self._entries.drop(credential)
            return None
        return principal

    def put(self, credential: str, principal: Principal, generation: int,
            expires_at: float | None = None) -> None:
        """Keep what was read from the database in `generation` (unless a notice came since)."""
        if not self.listening or generation != self.generation:
            return
        ceiling = clock.now().timestamp() + MAX_AGE_S
        self._entries.put(credential, (principal, min(expires_at or ceiling, ceiling)))

    def forget(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


cache = PrincipalCache()
