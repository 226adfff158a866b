"""Live sockets (graphql-transport-ws): text frames for every message, and a socket closed with
4403 the moment the credential it was opened with stops working: logout, revocation,
deactivation (notices on the principal channel) or the access token's expiry (a timer)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected

from core import auth, clock
from core.accounts import service as accounts
from core.accounts.models import Session
from core.errors import DomainError
from core.events import Mirror
from core.principal import Principal

log = logging.getLogger(__name__)

# Graphql-transport-ws's code for a refused or ended authorization.
ENDED = 4403
# Operations in flight on one socket (strawberry refuses more with an error message); an
# account's subscriptions over all its sockets are bounded by the hub
# (notifications.SUBSCRIPTIONS_PER_ACCOUNT).
SUBSCRIPTIONS_PER_SOCKET = 10


class TextFrames(ASGIWebSocketAdapter):
    """Every message as a text frame. The view encodes JSON to bytes (orjson), which
    strawberry's adapter sends as binary frames: the `graphql-ws` client under Apollo, urql and
    GraphiQL, and Python's `gql`, refuse those."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


@dataclass(eq=False)
class _Watched:
    socket: WebSocket
    authorization: str
    principal: Principal
    expiry: asyncio.TimerHandle | None = None


class Sockets(Mirror):
    """The open sockets of this process and the credentials they were opened with. A notice
    that a session, account or API key changed (or a reconnect of the listener, after which
    notices may have been missed) checks them all again, in one statement for the sessions."""

    def __init__(self) -> None:
        super().__init__()
        self._open: set[_Watched] = set()
        self._checking: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._again = False

    def watch(self, socket: WebSocket, authorization: str, principal: Principal) -> None:
        watched = _Watched(socket, authorization, principal)
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "bearer":
            claims = auth.read_access_token(credential.strip())
            if claims is not None:
                delay = max(0.0, claims.expires_at - clock.now().timestamp())
                watched.expiry = asyncio.get_running_loop().call_later(
                    delay, self._ending, watched)
        self._open.add(watched)

    def unwatch(self, scope: object) -> None:
        """The socket of this ASGI scope has ended."""
        for watched in [w for w in self._open if w.socket.scope is scope]:
            self._drop(watched)

    def forget(self) -> None:
        """Any change to sessions, accounts or keys: check every socket again."""
        if not self._open:
            return
        if self._checking is not None and not self._checking.done():
            self._again = True
            return
        with contextlib.suppress(RuntimeError):  # no running loop: nothing is open
            self._checking = asyncio.get_running_loop().create_task(self._check_all())

    async def _check_all(self) -> None:
        while True:
            self._again = False
            try:
                ended = await self._ended()
            except Exception as exc:  # the database is away: keep the sockets, check on reconnect
                log.warning("live sockets not checked: %s", exc)
                return
            for watched in ended:
                await self._end(watched)
            if not self._again:
                return

    async def _ended(self) -> list[_Watched]:
        watched = list(self._open)
        sessions = {w.principal.session_id for w in watched if w.principal.session_id}
        open_sessions = set(await Session.filter(
            id__in=sessions, revoked_at__isnull=True, account__is_active=True
        ).values_list("id", flat=True)) if sessions else set()
        ended = []
        for w in watched:
            if w.principal.session_id is not None:
                if w.principal.session_id not in open_sessions:
                    ended.append(w)
                continue
            try:  # an API key: few sockets, each checked as a request checks it
                await accounts.principal_from_api_key(w.authorization.partition(" ")[2].strip())
            except DomainError:
                ended.append(w)
        return ended

    def _ending(self, watched: _Watched) -> None:
        task = asyncio.get_running_loop().create_task(self._end(watched))
        self._closing.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._closing.discard)

    async def _end(self, watched: _Watched) -> None:
        self._drop(watched)
        if watched.socket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await watched.socket.close(code=ENDED, reason="Session ended")

    def _drop(self, watched: _Watched) -> None:
        self._open.discard(watched)
        if watched.expiry is not None:
            watched.expiry.cancel()


sockets = Sockets()
