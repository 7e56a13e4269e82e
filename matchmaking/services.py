"""Quick play: seeks, their holds, and the waves that pair them.

Every transport (the queue socket, the HTTP API) calls these functions and
turns what they return (a :class:`SeekView`) into its own answer.

Across processes. A wave locks its pool (a PostgreSQL advisory lock per
pool, held to the end of its transaction) and then the pool's waiting seeks
(``SELECT ... FOR UPDATE``), so two waves of one pool, from any processes,
run one after the other and the second sees what the first did; withdrawing
and releasing a seek lock its row, so a seek is never paired and withdrawn
at once. The conditional update that marks a seek paired (``WHERE status =
'waiting'``) is the backstop: a seek that is not waiting any more rolls its
pair's match back instead of joining a second match. SQLite has one writer at
a time (the project's transactions take its write lock at ``BEGIN``).

A new pair's match is created with ``games.services.start_match`` (both
seated, active at once) in the wave's transaction, and both players are told
on their queue sockets (the channel-layer group :func:`player_group`) after
it commits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from bots.services import start_bot_match
from games import services as games
from games.broadcast import send_to_group
from games.engine.clocks import format_time
from games.engine.errors import ErrorCode, GameError
from games.models import Player
from matchmaking.models import POOL_LENGTH, Seek
from matchmaking.pairing import Candidate, pair_wave
from ratings.pools import pool_for
from ratings.services import ratings_of

logger = logging.getLogger(__name__)

#: the longest ``bot_after`` a seek may ask for, in seconds
MAX_BOT_AFTER = 3600
#: the computer's level for a player's rating: the first level whose bound is above it
BOT_LEVELS: tuple[tuple[float, int], ...] = ((1300.0, 1), (1700.0, 2), (float("inf"), 3))


class OpponentView(TypedDict):
    id: int
    name: str
    rating: float | None
    bot: bool


class SeekView(TypedDict):
    """A seek as its player sees it (the HTTP answer and the socket frames)."""

    id: int
    status: str
    reason: str | None
    game: str
    options: dict[str, Any]
    pool: str
    rating_pool: str
    rating: float
    bot_after: int | None
    created_at: str
    match: int | None
    seat: int | None
    opponent: OpponentView | None


def player_group(player_id: int) -> str:
    """The channel-layer group every queue socket of a player joins."""
    return f"queue.player.{player_id}"


def hold_for() -> timedelta:
    return timedelta(seconds=settings.MATCHMAKING_HOLD_SECONDS)


# --- seeking ---------------------------------------------------------------


def pool_key(game: str, options: dict[str, Any]) -> str:
    """The pool of a game and its validated options: two seeks may be paired
    only if these are equal (as canonical JSON, keys sorted)."""
    return f"{game}:{json.dumps(options, sort_keys=True, separators=(',', ':'))}"


def prepare(game: str, options: Any) -> tuple[dict[str, Any], str]:
    """The validated options and the pool of a seek, or the house's refusal
    (``unknown_game``, ``invalid_options``). Casual is the absence of
    ``rated``, so ``{"rated": false}`` and ``{}`` seek in one pool."""
    slug, valid, _ = games.match_terms(game, options, seats=2)
    if valid.get("rated") is False:
        del valid["rated"]
    pool = pool_key(slug, valid)
    if len(pool) > POOL_LENGTH:
        raise GameError(
            ErrorCode.INVALID_OPTIONS, f"options too long for quick play (at most {POOL_LENGTH} characters)"
        )
    return valid, pool


def _bot_after(asked: int | None) -> int | None:
    if asked is not None and not 1 <= asked <= MAX_BOT_AFTER:
        raise GameError(ErrorCode.BAD_REQUEST, f"bot_after must be from 1 to {MAX_BOT_AFTER} seconds, or null")
    return asked if asked is not None else (settings.MATCHMAKING_BOT_AFTER_SECONDS or None)


def seek(
    player: Player,
    game: str,
    options: Any,
    bot_after: int | None = None,
    *,
    socket: bool = False,
    holding: int | None = None,
) -> tuple[SeekView, bool]:
    """Put ``player`` in the queue for ``game`` with ``options``; returns the
    seek and whether it is new. A player has at most one waiting seek per
    pool: seeking again (another tab, a retry) returns that one, held once
    more by this ``socket``, or for another ``MATCHMAKING_HOLD_SECONDS`` over
    HTTP. A socket ``holding`` a seek of another pool lets go of it first
    (one seek per socket). Then runs the pool's wave at once
    (``MATCHMAKING_PAIR_AT_ONCE``), so the answer may already be paired.
    Must not be called inside a transaction: the wave must see the seek."""
    valid, pool = prepare(game, options)
    bot_after = _bot_after(bot_after)
    rating_pool = pool_for(game, valid)
    rating = _ratings([player.pk], rating_pool)[0]
    for attempt in range(2):
        try:
            with transaction.atomic():
                found, created = _place(player, game, valid, pool, rating_pool, rating, bot_after, socket, holding)
            break
        except IntegrityError:
            # Another tab created the player's seek of this pool meanwhile: take that one.
            if attempt:
                raise
    if created and settings.MATCHMAKING_PAIR_AT_ONCE:
        try:
            run_wave(pool)
        except Exception:  # the seek stands: the next wave pairs it
            logger.exception("the wave of pool %s failed", pool)
    return view(Seek.objects.select_related("opponent").get(pk=found.pk)), created


def _place(
    player: Player,
    game: str,
    options: dict[str, Any],
    pool: str,
    rating_pool: str,
    rating: float,
    bot_after: int | None,
    socket: bool,
    holding: int | None,
) -> tuple[Seek, bool]:
    now = timezone.now()
    # The player's row first (so two seeks at once count each other), then
    # both seeks this may touch in one statement, in id order: two tabs
    # swapping pools at once lock them in the same order, never crosswise.
    Player.objects.select_for_update().filter(pk=player.pk).first()
    mine = (
        Q(player=player, pool=pool) | Q(pk=holding) if socket and holding is not None else Q(player=player, pool=pool)
    )
    locked = list(Seek.objects.select_for_update().filter(mine, status=Seek.Status.WAITING).order_by("pk"))
    previous = next((seek for seek in locked if seek.pk == holding and seek.pool != pool), None)
    if previous is not None:
        _let_go(previous, now, Seek.Ended.CANCELLED)
    existing = next((seek for seek in locked if seek.player_id == player.pk and seek.pool == pool), None)
    if existing is None:
        _check_seeks(player)
    if existing is not None:
        if socket and existing.pk != holding:
            existing.sockets += 1
        existing.held_until = max(existing.held_until, now + hold_for())
        existing.save(update_fields=["sockets", "held_until"])
        return existing, False
    created = Seek.objects.create(
        player=player,
        game=game,
        options=options,
        pool=pool,
        rating_pool=rating_pool,
        rating=rating,
        bot_after=bot_after,
        sockets=1 if socket else 0,
        held_until=now + hold_for(),
        created_at=now,
    )
    return created, True


def _check_seeks(player: Player) -> None:
    """At most ``MATCHMAKING_MAX_SEEKS_PER_PLAYER`` waiting seeks a player
    (each pool is a seek, and each may become a match against the computer)."""
    waiting = Seek.objects.filter(player=player, status=Seek.Status.WAITING).count()
    if waiting >= settings.MATCHMAKING_MAX_SEEKS_PER_PLAYER:
        raise GameError(
            ErrorCode.TOO_MANY_OPEN_MATCHES,
            f"you already wait in {waiting} quick-play pools; cancel one or wait until it is paired",
        )


def _own(player: Player, seek_id: int) -> Seek:
    found = Seek.objects.select_related("opponent").filter(pk=seek_id, player=player).first()
    if found is None:
        raise GameError(ErrorCode.NOT_FOUND, f"you have no seek {seek_id}")
    return found


def poll(player: Player, seek_id: int) -> SeekView:
    """``player``'s seek as it stands; a waiting one is held for another
    ``MATCHMAKING_HOLD_SECONDS`` (how an HTTP caller keeps it)."""
    found = _own(player, seek_id)
    if found.status == Seek.Status.WAITING:
        Seek.objects.filter(pk=found.pk, status=Seek.Status.WAITING).update(held_until=timezone.now() + hold_for())
    return view(found)


def cancel(player: Player, seek_id: int) -> SeekView:
    """Withdraw ``player``'s seek (for every tab holding it). Too late when
    it is already paired: the answer then shows the match."""
    _own(player, seek_id)
    with transaction.atomic():
        found = Seek.objects.select_for_update().get(pk=seek_id)
        if found.status == Seek.Status.WAITING:
            _withdraw(found, Seek.Ended.CANCELLED, timezone.now())
    return view(found)


def release(seek_id: int) -> None:
    """A queue socket holding the seek closed: the last one withdraws it."""
    with transaction.atomic():
        found = Seek.objects.select_for_update().filter(pk=seek_id, status=Seek.Status.WAITING).first()
        if found is not None:
            _let_go(found, timezone.now(), Seek.Ended.CLOSED)


def _let_go(found: Seek, now: datetime, reason: Seek.Ended) -> None:
    """One socket less holds the locked seek; the last one withdraws it."""
    found.sockets = max(0, found.sockets - 1)
    if found.sockets:
        found.save(update_fields=["sockets"])
    else:
        _withdraw(found, reason, now)


def _withdraw(found: Seek, reason: Seek.Ended, now: datetime) -> None:
    """Mark a locked waiting seek withdrawn and tell the player's sockets after commit."""
    found.status, found.ended, found.ended_at = Seek.Status.WITHDRAWN, reason, now
    found.save(update_fields=["status", "ended", "ended_at", "sockets"])
    _announce(found)


def hold(seek_ids: Iterable[int]) -> list[SeekView]:
    """A server still holds sockets on these seeks: keep the waiting ones
    for another ``MATCHMAKING_HOLD_SECONDS``. Returns the others (paired or
    withdrawn meanwhile), so their sockets hear of it even if the channel
    layer lost the news."""
    ids = list(seek_ids)
    Seek.objects.filter(pk__in=ids, status=Seek.Status.WAITING).update(held_until=timezone.now() + hold_for())
    ended = Seek.objects.filter(pk__in=ids).exclude(status=Seek.Status.WAITING).select_related("opponent")
    return [view(found) for found in ended]


def waiting_in(pool: str) -> int:
    """How many seeks wait in ``pool``."""
    return Seek.objects.filter(pool=pool, status=Seek.Status.WAITING).count()


# --- views -----------------------------------------------------------------


def view(found: Seek, opponent_rating: float | None = None) -> SeekView:
    opponent: OpponentView | None = None
    if found.opponent is not None:
        rating = opponent_rating
        if rating is None:  # their seek's rating; the computer's current one
            theirs = (
                Seek.objects.filter(match_id=found.match_id, player=found.opponent).first() if found.match_id else None
            )
            rating = theirs.rating if theirs is not None else _ratings([found.opponent.pk], found.rating_pool)[0]
        opponent = {
            "id": found.opponent.pk,
            "name": found.opponent.name,
            "rating": rating,
            "bot": found.opponent.is_bot,
        }
    return {
        "id": found.pk,
        "status": found.status,
        "reason": found.ended or None,
        "game": found.game,
        "options": found.options,
        "pool": found.pool,
        "rating_pool": found.rating_pool,
        "rating": found.rating,
        "bot_after": found.bot_after,
        "created_at": format_time(found.created_at),
        "match": found.match_id,
        "seat": found.seat,
        "opponent": opponent,
    }


def _ratings(player_ids: list[int], rating_pool: str) -> list[float]:
    found = ratings_of(player_ids, rating_pool)
    return [found[player_id] for player_id in player_ids]


def _announce(found: Seek, opponent_rating: float | None = None) -> None:
    """Tell the seek's player's queue sockets what became of it, after commit."""
    message = {"type": "queue.seek", "seek": view(found, opponent_rating)}
    group = player_group(found.player_id)
    transaction.on_commit(lambda: send_to_group(group, message), robust=True)


# --- waves -----------------------------------------------------------------

_last_waves = 0.0  # when this process last ran the waves (time.monotonic)


def run_waves() -> int:
    """Every ``MATCHMAKING_WAVE_SECONDS``: a wave for each pool where
    someone waits (registered with the clock loop, which calls it about once
    a second). Returns how many matches started."""
    global _last_waves
    if time.monotonic() - _last_waves < settings.MATCHMAKING_WAVE_SECONDS:
        return 0
    _last_waves = time.monotonic()
    started = 0
    pools = Seek.objects.filter(status=Seek.Status.WAITING).values_list("pool", flat=True).distinct()
    for pool in list(pools):
        try:
            started += run_wave(pool)
        except Exception:
            logger.exception("the wave of pool %s failed", pool)
    return started


def _lock_pool(pool: str) -> None:
    """Serialise the pool's waves across processes (until the transaction ends)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"matchmaking:{pool}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def run_wave(pool: str, now: datetime | None = None) -> int:
    """Withdraw the pool's lapsed seeks, pair the others
    (``matchmaking.pairing.pair_wave``), start a match for each pair and for
    each seek due for a computer opponent; returns how many matches started."""
    with transaction.atomic():
        _lock_pool(pool)
        now = now or timezone.now()
        last_opponent = (
            Seek.objects.filter(player=OuterRef("player"), status=Seek.Status.PAIRED)
            .order_by("-ended_at", "-pk")
            .values("opponent")[:1]
        )
        rows = list(
            Seek.objects.select_for_update()
            .filter(pool=pool, status=Seek.Status.WAITING)
            .annotate(last_opponent=Subquery(last_opponent))
            .order_by("pk")
        )
        live = []
        for row in rows:
            if row.held_until < now:
                _withdraw(row, Seek.Ended.EXPIRED, now)
            else:
                live.append(row)
        if not live:
            return 0
        wave = pair_wave([_candidate(row) for row in live], now.timestamp())
        by_id = {row.pk: row for row in live}
        players = Player.objects.in_bulk([row.player_id for row in live])
        started = 0
        for pair in wave.pairs:
            first, second = by_id[pair.first.seek], by_id[pair.second.seek]
            try:
                with transaction.atomic():  # a pair that fails is left waiting; the others go on
                    _start(first, second, players, now)
                started += 1
            except Exception:
                logger.exception("starting the match of seeks %s and %s failed", first.pk, second.pk)
        for due in wave.bots:
            started += _play_the_computer(by_id[due.seek], players[by_id[due.seek].player_id], now)
        return started


def _start(first: Seek, second: Seek, players: dict[int, Player], now: datetime) -> None:
    """The pair's match, ``first`` in seat 0, and both seeks marked paired.
    A player who sought over a socket counts as away until they open the
    match's socket, so one who never comes loses by abandonment; one who
    sought over HTTP may play over HTTP, which is never abandoned."""
    seated = [players[first.player_id], players[second.player_id]]
    away = [players[seek.player_id] for seek in (first, second) if seek.sockets > 0]
    started = games.start_match(seated, first.game, first.options, away=away)
    match_id = started.match["id"]
    _paired(first, match_id, 0, players[second.player_id], second.rating, now)
    _paired(second, match_id, 1, players[first.player_id], first.rating, now)


def _candidate(row: Seek) -> Candidate:
    return Candidate(
        seek=row.pk,
        player=row.player_id,
        rating=row.rating,
        since=row.created_at.timestamp(),
        last_opponent=getattr(row, "last_opponent", None),
        bot_after=row.bot_after,
    )


def _paired(
    row: Seek, match_id: int, seat: int, opponent: Player, opponent_rating: float | None, now: datetime
) -> None:
    """Mark a locked seek paired; a seek that stopped waiting meanwhile
    (which the locks rule out) rolls its pair's match back rather than join a second one."""
    changed = Seek.objects.filter(pk=row.pk, status=Seek.Status.WAITING).update(
        status=Seek.Status.PAIRED, match_id=match_id, seat=seat, opponent=opponent, ended_at=now
    )
    if changed != 1:
        raise RuntimeError(f"seek {row.pk} stopped waiting during its wave")
    row.status, row.match_id, row.seat, row.opponent, row.ended_at = Seek.Status.PAIRED, match_id, seat, opponent, now
    _announce(row, opponent_rating)


def bot_level(rating: float) -> int:
    """The computer's level for a player of ``rating`` (see :data:`BOT_LEVELS`)."""
    return next(level for bound, level in BOT_LEVELS if rating < bound)


def _play_the_computer(row: Seek, player: Player, now: datetime) -> int:
    """Start the seek's match against the computer; 1 if it started. A bot
    that refuses it (say, the game is not played by two, or the player
    already plays the computer in too many matches) is not asked again."""
    try:
        with transaction.atomic():
            started = start_bot_match(player, row.game, row.options, bot_level(row.rating), away=row.sockets > 0)
            seats = {entry["id"]: entry["seat"] for entry in started.match["players"]}
            bot = Player.objects.get(pk=next(player_id for player_id in seats if player_id != player.pk))
            rating = _ratings([bot.pk], row.rating_pool)[0]
            _paired(row, started.match["id"], seats[player.pk], bot, rating, now)
    except GameError as refusal:  # the computer will not play this seek: it waits for people from now on
        logger.warning("seek %s: no computer opponent (%s)", row.pk, refusal.message)
        Seek.objects.filter(pk=row.pk).update(bot_after=None)
    except Exception:  # a failure of the moment (the database, say): the next wave tries again
        logger.exception("seek %s: starting a match against the computer failed", row.pk)
    else:
        return 1
    return 0
