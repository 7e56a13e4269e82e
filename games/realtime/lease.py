"""Leases: which process runs a live real-time match's loop (one at a time).

A ``MatchLease`` row is created, owned by nobody and already lapsed, in the
transaction that makes a real-time match active (:func:`open_lease`). Every
supervisor (``games.realtime.supervisor``) looks for lapsed leases of active
matches and takes each over (:func:`take_over`): under the match's row lock,
a conditional UPDATE that names it the owner, raises the epoch and sets
``expires_at`` a lease from the database's clock. Only one process's UPDATE
matches the row. The owner renews (:func:`renew`, conditional on its epoch)
while it lives; once it stops renewing, the lease lapses and another process
takes over.

An owner that lost its lease (paused, partitioned) must not write: every
write of the loop runs :func:`fence` under the same row lock a takeover
takes, so the two are serialised and a stale epoch raises :class:`Fenced`
before anything is written. Every time here is the database's (``Now()``),
so the processes' clocks need not agree.

Everything here is synchronous (it runs on a database thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.functions import Now
from django.utils import timezone

from games.engine import get_game
from games.engine.match import MatchData, Status
from games.engine.realtime import RealtimeGame
from games.models import Match, MatchLease, Seat
from games.realtime import config
from games.records import locked_match, match_data, seat_rows


class Fenced(Exception):
    """The caller no longer holds the match's lease: it must stop, having
    written nothing."""


@dataclass(frozen=True)
class Taken:
    """A match this process now runs: its lease's ``epoch``, when its tick 0
    was (``started_at``, re-based so that tick ``tick`` is now), the tick to
    resume from, the match as stored (as of its last logged tick) and the
    seats the loop plays for (computer players)."""

    match_id: int
    epoch: int
    started_at: datetime
    tick: int
    data: MatchData
    bots: frozenset[int]


@dataclass(frozen=True)
class LeaseView:
    """What a socket needs of a lease: where inputs go, and who owns it."""

    channel: str
    epoch: int
    tick: int
    started_at: datetime


def _from_now(seconds: float) -> ExpressionWrapper:
    """The database's time now plus ``seconds``."""
    return ExpressionWrapper(Now() + timedelta(seconds=seconds), output_field=DateTimeField())


def _lease_from_now() -> ExpressionWrapper:
    return _from_now(config.lease_seconds())


#: A lease's ``expires_at`` when nobody owns it: already passed.
LAPSED_SECONDS = -1.0


def realtime_game(slug: str) -> RealtimeGame | None:
    game = get_game(slug)
    return game if isinstance(game, RealtimeGame) else None


def open_lease(match: Match, game: RealtimeGame) -> None:
    """The lease of a match that has just become active (inside that
    transaction): nobody's, already lapsed, its tick 0 a countdown from now."""
    started_at = timezone.now() + timedelta(milliseconds=config.start_delay_ms(game))
    MatchLease.objects.update_or_create(
        match=match,
        defaults={
            "owner": "",
            "channel": "",
            "expires_at": _from_now(LAPSED_SECONDS),
            "tick": 0,
            "started_at": started_at,
        },
    )


def close_lease(match_id: int) -> str:
    """The match is over (inside the transaction that ended it): its owner's
    next renewal or write finds no lease and stops. Returns the owner's
    channel ("": nobody's), to tell it at once."""
    rows = MatchLease.objects.filter(match_id=match_id)
    channel = rows.values_list("channel", flat=True).first() or ""
    rows.delete()
    return channel


def lapsed(limit: int = 100) -> list[int]:
    """Active matches whose lease has lapsed (nobody owns them now)."""
    rows = MatchLease.objects.filter(expires_at__lt=Now(), match__status=Status.ACTIVE)
    return list(rows.order_by("expires_at").values_list("match_id", flat=True)[:limit])


def take_over(match_id: int, owner: str, channel: str) -> Taken | None:
    """Own the match's loop if its lease has lapsed (``None`` if another
    process got it first, or the match is no longer active)."""
    with transaction.atomic():
        row = locked_match(match_id)
        if row is None or row.status != Status.ACTIVE:
            return None
        game = realtime_game(row.game)
        if game is None:
            return None
        taken = MatchLease.objects.filter(match_id=match_id, expires_at__lt=Now()).update(
            owner=owner[:80], channel=channel, epoch=F("epoch") + 1, expires_at=_lease_from_now()
        )
        if not taken:
            return None
        lease = MatchLease.objects.get(match_id=match_id)
        tick = max(row.state["tick"], lease.tick)
        started_at = _rebased(lease.started_at, tick, game.tick_ms or 0)
        if (started_at, tick) != (lease.started_at, lease.tick):
            MatchLease.objects.filter(match_id=match_id).update(started_at=started_at, tick=tick)
        bots = Seat.objects.filter(match_id=match_id, player__is_bot=True, player__token_hash__isnull=True)
        data = match_data(row, seat_rows(match_id))
        return Taken(match_id, lease.epoch, started_at, tick, data, frozenset(bots.values_list("seat", flat=True)))


def _rebased(started_at: datetime, tick: int, tick_ms: int) -> datetime:
    """Tick 0's time for an owner resuming at ``tick`` now: play goes on from
    now, without a burst of the ticks missed while nobody owned the match; a
    countdown that has not ended goes on as it was."""
    return max(started_at, timezone.now() - timedelta(milliseconds=tick * tick_ms))


def renew(match_id: int, epoch: int, tick: int) -> bool:
    """Extend the lease held at ``epoch``, recording the last tick run;
    ``False``: it is not ours any more (taken over, or the match ended)."""
    return bool(
        MatchLease.objects.filter(match_id=match_id, epoch=epoch).update(expires_at=_lease_from_now(), tick=tick)
    )


def release(match_id: int, epoch: int) -> None:
    """Drop the lease held at ``epoch`` (the loop has ended the match)."""
    MatchLease.objects.filter(match_id=match_id, epoch=epoch).delete()


def hand_over(match_id: int, epoch: int) -> None:
    """Let the lease held at ``epoch`` lapse now (this process is stopping):
    another process takes the match over at its next look, not a lease later."""
    MatchLease.objects.filter(match_id=match_id, epoch=epoch).update(expires_at=_from_now(LAPSED_SECONDS))


def fence(match_id: int, epoch: int) -> Callable[[], None]:
    """The check ``games.services.log_ticks`` runs under the match's row
    lock: raises :class:`Fenced` unless the lease is still at ``epoch``."""

    def check() -> None:
        if not MatchLease.objects.filter(match_id=match_id, epoch=epoch).exists():
            raise Fenced(f"match {match_id}: the lease is no longer at epoch {epoch}")

    return check


def abort_owned(match_id: int, epoch: int, reason: str) -> None:
    """Abort the match (``services.abort_match``) if the lease is still at
    ``epoch``, else :class:`Fenced`: the owner gives up a match its game's
    code cannot run."""
    from games import services  # services imports the engine's signals, which import this app

    with transaction.atomic():
        locked_match(match_id)
        fence(match_id, epoch)()
        services.abort_match(match_id, reason)


def current(match_id: int) -> LeaseView | None:
    """The lease of an active match, if any."""
    row = (
        MatchLease.objects.filter(match_id=match_id, match__status=Status.ACTIVE)
        .values("channel", "epoch", "tick", "started_at")
        .first()
    )
    return None if row is None else LeaseView(**row)
