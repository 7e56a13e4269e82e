"""Rate limits and quotas, with the ``limits`` library.

Two kinds of counter:

* **local** (a socket's messages, moves and resyncs, on the socket itself:
  :class:`SocketLimits`; resyncs per address): what costs this process,
  counted in its memory;
* **shared** (chat, socket opens and HTTP actions per player; socket opens,
  creations and replays per client address): counted in Redis when
  ``REDIS_URL`` is set, so the limit holds across every server process, and
  in memory on the embedded default.

Sockets held open at once are quotas (:class:`SocketQuota`), per process.

Every limit is a ``limits`` string such as ``"5/second;100/minute"`` from the
environment (see ``GAMES_LIMITS`` in the settings and the README). A limited
request changes nothing and is answered ``rate_limited`` with ``retry_after``.
If the shared storage is unreachable the limit is not enforced (logged): a
Redis outage must not stop play.
"""

from __future__ import annotations

import logging
import math
import time
from functools import cache

from django.conf import settings
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from games.engine.errors import GameError
from games.monitoring import RATE_LIMITED

logger = logging.getLogger(__name__)


class RateLimited(GameError):
    """A request over a limit; ``retry_after`` is in whole seconds."""

    def __init__(self, limit: str, what: str, retry_after: int) -> None:
        super().__init__("rate_limited", f"too many {what}; retry in {retry_after} s")
        self.retry_after = retry_after
        self.ref: str | int | None = None  # the limited message's, on a socket
        RATE_LIMITED.labels(limit=limit).inc()


@cache
def _items(name: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(settings.GAMES_LIMITS[name]))


@cache
def _local() -> SlidingWindowCounterRateLimiter:
    return SlidingWindowCounterRateLimiter(MemoryStorage())


@cache
def _shared() -> SlidingWindowCounterRateLimiter:
    uri = settings.GAMES_LIMITS_STORAGE
    # Short timeouts: a stalled Redis must not hold the database thread (and
    # with it every match of the process) waiting for a counter.
    timeouts = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
    storage: Storage = MemoryStorage() if uri.startswith("memory") else storage_from_string(uri, **timeouts)
    return SlidingWindowCounterRateLimiter(storage)


def reset() -> None:
    """Forget every counter and re-read the settings (tests)."""
    for cached in (_items, _local, _shared):
        cached.cache_clear()


def _hit(limiter: SlidingWindowCounterRateLimiter, name: str, key: str, what: str) -> None:
    namespace = (settings.GAMES_LIMITS_PREFIX, name)
    for item in _items(name):
        if not limiter.hit(item, *namespace, key):
            stats = limiter.get_window_stats(item, *namespace, key)
            raise RateLimited(name, what, max(1, math.ceil(stats.reset_time - time.time())))


def check_local(name: str, key: str, what: str) -> None:
    """Count one ``name`` for ``key`` (a client address) in this process: for
    what costs this process whichever socket asks (resyncs)."""
    _hit(_local(), name, key, what)


class SocketLimits:
    """One socket's own counters (its messages, moves, resyncs), kept on the
    socket and gone with it: nothing to sweep in a shared store, nothing held
    for a socket after it closes. Each limit is a sliding window counter, as
    the ``limits`` library counts the others: the previous window's count,
    weighted by how much of it still overlaps, plus the current one's."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, int], list[float]] = {}  # [window number, count, previous count]

    def check(self, name: str, what: str) -> None:
        now = time.monotonic()
        for index, item in enumerate(_items(name)):
            period = item.get_expiry()
            number = now // period
            window = self.windows.setdefault((name, index), [number, 0, 0])
            if window[0] != number:
                window[:] = [number, 0, window[1] if window[0] == number - 1 else 0]
            overlap = 1 - (now - number * period) / period
            if window[2] * overlap + window[1] + 1 > item.amount:
                raise RateLimited(name, what, max(1, math.ceil((number + 1) * period - now)))
            window[1] += 1


def check_shared(name: str, key: str | int, what: str) -> None:
    """Count one ``name`` for ``key`` (a player id, a client address) across all processes."""
    try:
        _hit(_shared(), name, str(key), what)
    except RateLimited:
        raise
    except Exception:
        logger.warning("rate limit storage unavailable; %s not enforced", name, exc_info=True)


def client_address(forwarded_for: str | None, peer: str | None) -> str:
    """The address a client's requests are counted under. Behind
    ``GAMES_TRUSTED_PROXY_HOPS`` proxies that each append the address they
    saw to ``X-Forwarded-For`` (Heroku's router is one), the entry that many
    places from the right is the client's; anything left of it was written
    by the client and proves nothing. Without proxies, the peer's address."""
    hops = settings.GAMES_TRUSTED_PROXY_HOPS
    entries = [entry.strip() for entry in (forwarded_for or "").split(",") if entry.strip()]
    if hops and len(entries) >= hops:
        return entries[-hops]
    return peer or "unknown"


class SocketQuota:
    """Sockets held open in this process, per key (a player, an address),
    refused beyond ``maximum``. A process's own count, so nothing outlives
    the process, whatever kills it."""

    def __init__(self, limit: str, what: str) -> None:
        self.limit, self.what = limit, what
        self.held: dict[str | int, int] = {}

    def hold(self, key: str | int, maximum: int) -> None:
        if self.held.get(key, 0) >= maximum:
            raise RateLimited(self.limit, f"open sockets {self.what} (at most {maximum})", 1)
        self.held[key] = self.held.get(key, 0) + 1

    def release(self, key: str | int) -> None:
        left = self.held.get(key, 0) - 1
        if left > 0:
            self.held[key] = left
        else:
            self.held.pop(key, None)


sockets_per_player = SocketQuota("player_sockets", "per player")
sockets_per_address = SocketQuota("address_sockets", "from your address")
