"""This server process's life: draining on SIGTERM or Ctrl-C.

Daphne (Twisted) turns SIGTERM and SIGINT into a reactor shutdown. Daphne's
own shutdown hook is meant to cancel every connection's application first,
but in daphne 4.2 it fails (``KeyError: 'application_instance'`` on an HTTP
connection without one) and the sockets are simply dropped. So the project
drains itself, from its own "before shutdown" hook, which Twisted waits for:
new sockets are refused with 1012 (service restart), and every open socket is
closed with 1012, so clients reconnect at once to another process, and
records its close (presence) before the process exits; meanwhile the
background loops other apps registered finish (a real-time supervisor
hands its matches over).

Autobahn (daphne's WebSocket implementation) refuses to send any close code
but 1000 and 3000-4999, although RFC 6455 registers 1012 for exactly this;
:func:`allow_service_restart` lets daphne send that one code.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

logger = logging.getLogger(__name__)

CLOSE_SERVICE_RESTART = 1012
SHUTDOWN_SECONDS = 20.0  # within the 30 s a Heroku-style platform gives after SIGTERM


class Drainable(Protocol):
    async def shut_down(self) -> None: ...


draining = False
_watching = False
_open: weakref.WeakSet[Any] = weakref.WeakSet()
_before_exit: list[Callable[[], Awaitable[None]]] = []


def opened(socket: Drainable) -> None:
    _open.add(socket)


def closed(socket: Drainable) -> None:
    _open.discard(socket)


def before_exit(hook: Callable[[], Awaitable[None]]) -> None:
    """Have :func:`drain` run ``hook()`` too, beside closing the sockets
    (registering the same hook again changes nothing)."""
    if hook not in _before_exit:
        _before_exit.append(hook)


async def drain() -> None:
    """Refuse new sockets and close the open ones, each recording its close,
    while the hooks given to :func:`before_exit` run."""
    global draining
    draining = True
    sockets = list(_open)
    logger.info("shutting down: closing %d sockets with %d", len(sockets), CLOSE_SERVICE_RESTART)
    work = [*(socket.shut_down() for socket in sockets), *(hook() for hook in _before_exit)]
    if work:
        closing = asyncio.gather(*work, return_exceptions=True)
        try:
            await asyncio.wait_for(closing, SHUTDOWN_SECONDS)
        except TimeoutError:
            logger.warning("shutting down: sockets still closing after %s s", SHUTDOWN_SECONDS)


def _drain_before_shutdown() -> Any:
    from twisted.internet import defer

    return defer.Deferred.fromFuture(asyncio.ensure_future(drain()))


def allow_service_restart() -> None:
    """Let daphne's protocol send close code 1012 (autobahn's ``sendClose``
    allows only 1000 and 3000-4999; its ``sendCloseFrame`` sends any)."""
    from daphne.ws_protocol import WebSocketProtocol

    original = WebSocketProtocol.serverClose
    if getattr(original, "allows_service_restart", False):
        return

    def server_close(protocol: Any, code: int | None = None) -> None:
        if code == CLOSE_SERVICE_RESTART:
            protocol.sendCloseFrame(code=code, reasonUtf8=None, isReply=False)
        else:
            original(protocol, code)

    server_close.allows_service_restart = True  # type: ignore[attr-defined]
    WebSocketProtocol.serverClose = server_close


def watch_for_shutdown() -> None:
    """Drain when the Twisted reactor (daphne's) starts to shut down; nothing
    to do under a server without one (uvicorn closes its sockets with 1012 itself)."""
    global _watching
    reactor = sys.modules.get("twisted.internet.reactor")  # never install one: only daphne's counts
    if reactor is not None and reactor.running and not _watching:
        allow_service_restart()
        reactor.addSystemEventTrigger("before", "shutdown", _drain_before_shutdown)
        _watching = True
