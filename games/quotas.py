"""Rate limits and quotas, with the ``limits`` library.

Two kinds of counter:

* **per socket** (messages, moves, resyncs): a socket lives in one process, so
  these count in this process's memory;
* **shared** (chat per player, socket opens per player, creations per client
  address): counted in Redis when ``REDIS_URL`` is set, so the limit holds
  across every server process, and in memory on the embedded default.

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

from games.errors import GameError
from games.monitoring import RATE_LIMITED

logger = logging.getLogger(__name__)


class RateLimited(GameError):
    """A request over a limit; ``retry_after`` is in whole seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__("rate_limited", f"too many {what}; retry in {retry_after} s")
        self.retry_after = retry_after
        self.ref: str | int | None = None  # the limited message's, on a socket


@cache
def _items(name: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(settings.GAMES_LIMITS[name]))


@cache
def _local() -> SlidingWindowCounterRateLimiter:
    return SlidingWindowCounterRateLimiter(MemoryStorage())


@cache
def _shared() -> SlidingWindowCounterRateLimiter:
    uri = settings.GAMES_LIMITS_STORAGE
    storage: Storage = MemoryStorage() if uri.startswith("memory") else storage_from_string(uri)
    return SlidingWindowCounterRateLimiter(storage)


def reset() -> None:
    """Forget every counter and re-read the settings (tests)."""
    for cached in (_items, _local, _shared):
        cached.cache_clear()


def _hit(limiter: SlidingWindowCounterRateLimiter, name: str, key: str, what: str) -> None:
    namespace = (settings.GAMES_LIMITS_PREFIX, name)
    for item in _items(name):
        if not limiter.hit(item, *namespace, key):
            RATE_LIMITED.labels(limit=name).inc()
            stats = limiter.get_window_stats(item, *namespace, key)
            raise RateLimited(what, max(1, math.ceil(stats.reset_time - time.time())))


def check_socket(name: str, channel_name: str, what: str) -> None:
    """Count one message of kind ``name`` on this process's socket ``channel_name``."""
    _hit(_local(), name, channel_name, what)


def check_shared(name: str, key: str | int, what: str) -> None:
    """Count one ``name`` for ``key`` (a player id, a client address) across all processes."""
    try:
        _hit(_shared(), name, str(key), what)
    except RateLimited:
        raise
    except Exception:
        logger.warning("rate limit storage unavailable; %s not enforced", name, exc_info=True)


# Sockets held open in this process, per player id.
_sockets_held: dict[int, int] = {}


def hold_socket(player_id: int) -> None:
    """Count a player's new socket in this process, refused over the quota."""
    if _sockets_held.get(player_id, 0) >= settings.GAMES_MAX_SOCKETS_PER_PLAYER:
        raise RateLimited(f"open sockets (at most {settings.GAMES_MAX_SOCKETS_PER_PLAYER} per player)", 1)
    _sockets_held[player_id] = _sockets_held.get(player_id, 0) + 1


def release_socket(player_id: int) -> None:
    held = _sockets_held.get(player_id, 0) - 1
    if held > 0:
        _sockets_held[player_id] = held
    else:
        _sockets_held.pop(player_id, None)
