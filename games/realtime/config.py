"""The real-time settings, each with its default: the project's settings
may set any of them (``gameproject/settings.py`` reads them from the
environment; the README lists them)."""

from __future__ import annotations

from django.conf import settings

from games.engine.realtime import RealtimeGame

#: Seconds a lease lasts from its last renewal: how long a dead owner's
#: matches wait before another process takes them over.
LEASE_SECONDS = 1.0
#: Seconds between an owner's renewals, and between a supervisor's looks
#: for leases that lapsed.
RENEW_SECONDS = 0.25
#: An owner acts (ticks, broadcasts, writes) only while its last renewal is
#: younger than the lease less this margin, so a paused owner stops by itself.
MARGIN_SECONDS = 0.25
#: Seconds a socket waits for the owner's state before it reads the database.
SNAPSHOT_SECONDS = 1.0


def lease_seconds() -> float:
    return float(getattr(settings, "GAMES_REALTIME_LEASE_SECONDS", LEASE_SECONDS))


def renew_seconds() -> float:
    return float(getattr(settings, "GAMES_REALTIME_RENEW_SECONDS", RENEW_SECONDS))


def margin_seconds() -> float:
    """The safety margin, never more than half the lease (a short lease in tests)."""
    return min(MARGIN_SECONDS, lease_seconds() / 2)


def snapshot_seconds() -> float:
    return float(getattr(settings, "GAMES_REALTIME_SNAPSHOT_SECONDS", SNAPSHOT_SECONDS))


def start_delay_ms(game: RealtimeGame) -> int:
    """The countdown before a match's first tick: ``GAMES_REALTIME_START_DELAY_MS``
    when set (tests, demos), else the game's own ``start_delay_ms``."""
    configured = getattr(settings, "GAMES_REALTIME_START_DELAY_MS", None)
    return game.start_delay_ms if configured is None else int(configured)


def in_process() -> bool:
    """Whether a server process runs a supervisor (the worker always does)."""
    return bool(getattr(settings, "GAMES_REALTIME_IN_PROCESS", True))
