"""The principals of credentials seen lately, kept in process memory so that a request does not
read its session and account again (that lookup was a fifth of a list request's time).

An entry lives until its access token expires (at most MAX_AGE_S for API keys) and is dropped
the moment the database says a session, account or API key changed: migration 0006 notifies
CHANNEL from a trigger on those tables, in the changing transaction, whoever changes them. The
cache answers only while this process is listening (`resume` on each (re)connect of the
listener, `suspend` when it drops), since a notice sent while nobody listens is lost.
"""

from __future__ import annotations

from collections import OrderedDict

from core import clock
from core.principal import Principal

CHANNEL = "principal"
MAX_AGE_S = 300
MAX_ENTRIES = 10_000


class PrincipalCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._max_entries = max_entries
        self._listening = False

    def get(self, credential: str) -> Principal | None:
        if not self._listening:
            return None
        entry = self._entries.get(credential)
        if entry is None:
            return None
        principal, expires_at = entry
        if expires_at <= clock.now().timestamp():
            del self._entries[credential]
            return None
        self._entries.move_to_end(credential)
        return principal

    def put(self, credential: str, principal: Principal, expires_at: float | None = None) -> None:
        if not self._listening:
            return
        ceiling = clock.now().timestamp() + MAX_AGE_S
        self._entries[credential] = (principal, min(expires_at or ceiling, ceiling))
        self._entries.move_to_end(credential)
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    async def on_notice(self, _payload: str) -> None:
        """A session, account or API key changed somewhere: forget every principal."""
        self.clear()

    def resume(self) -> None:
        """The listener is (again) connected: notices arrive, entries may be kept."""
        self.clear()
        self._listening = True

    def suspend(self) -> None:
        """The listener dropped: notices would be missed, so keep nothing."""
        self._listening = False
        self.clear()

    def __len__(self) -> int:
        return len(self._entries)


cache = PrincipalCache()
