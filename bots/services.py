"""The bots' side of the match service: their players, matches against them,
and one move of a bot (``play_turn``), always through ``games.services``."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from bots.levels import LEVELS, get_level
from bots.models import Bot
from games import services
from games.engine.errors import ErrorCode, GameError
from games.engine.match import Status
from games.models import Match, Player, Seat
from games.outcomes import Current

#: Bot player id -> level, for every bot this process has seen: what the
#: ``event_logged`` receiver checks a match's players against (a dictionary
#: lookup per seat, no query). Refreshed by :func:`refresh_known_bots`.
known_bots: dict[int, int] = {}


_last_refresh = 0.0
#: While a level's bot is unknown here, look for it at most this often.
REFRESH_SECONDS = 5.0


def refresh_known_bots() -> dict[int, int]:
    """Reload :data:`known_bots` from the database (bots another process created)."""
    global _last_refresh
    _last_refresh = time.monotonic()
    known_bots.update(Bot.objects.values_list("player_id", "level"))
    return known_bots


def maybe_refresh_known_bots() -> None:
    """Look for bots another process created, while some level's bot is
    unknown here, at most every :data:`REFRESH_SECONDS` (once every level's
    bot is known, never: the receiver on every move stays query-free)."""
    if len(known_bots) < len(LEVELS) and time.monotonic() - _last_refresh >= REFRESH_SECONDS:
        refresh_known_bots()


def bot_player(level: int) -> Player:
    """The player of ``level``, created on first use. Race-safe: of two
    processes creating it at once, the unique level keeps one and the other
    reads it."""
    if get_level(level) is None:
        raise GameError(ErrorCode.INVALID_OPTIONS, f"level must be one of {', '.join(map(str, sorted(LEVELS)))}")
    bot = Bot.objects.select_related("player").filter(level=level).first()
    if bot is None:
        try:
            with transaction.atomic():
                bot = _create_bot(level)
        except IntegrityError:
            bot = Bot.objects.select_related("player").get(level=level)
    known_bots[bot.player_id] = bot.level
    return bot.player


def _create_bot(level: int) -> Bot:
    spec = LEVELS[level]
    # No password: nobody logs in as a bot (create_user makes it unusable).
    user = get_user_model().objects.create_user(username=f"bot-{level}-{uuid.uuid4().hex[:8]}")
    player = Player.objects.create(user=user, name=f"Computer ({spec.name.lower()})", is_bot=True)
    return Bot.objects.create(player=player, level=level, strategy=spec.strategy)


def start_bot_match(
    player: Player, game: str, options: dict[str, Any], level: int, *, seat: int | None = None, away: bool = False
) -> Current:
    """A match of ``game`` between ``player`` and the bot of ``level``, both
    seated and active at once: ``player`` in ``seat`` (0 by default), the
    bot in the other. The bot moves as soon as it is its turn (after
    commit). Refuses like match creation: ``unknown_game``,
    ``invalid_options`` (also a level that does not exist, a seat out of
    range, or a game not played by exactly two). ``away``: the player
    counts as gone until their first socket opens (quick play over a
    socket: see ``games.services.start_match``)."""
    slug, valid, _ = services.match_terms(game, options, seats=2)
    if seat is not None and seat not in (0, 1):
        raise GameError(ErrorCode.INVALID_OPTIONS, "seat must be 0 or 1")
    bot = bot_player(level)
    if bot.pk == player.pk:
        raise GameError(ErrorCode.INVALID_OPTIONS, "a bot does not play itself")
    players = [bot, player] if seat == 1 else [player, bot]
    with transaction.atomic():
        _check_bot_matches(player)
        return services.start_match(players, slug, valid, away=[player] if away else [])


def _check_bot_matches(player: Player) -> None:
    """At most ``BOTS_MAX_ACTIVE_MATCHES_PER_PLAYER`` active matches of a
    player against the computer: each asks the thinking processes for time,
    which every other player's bot then waits for. The player's row lock
    makes two requests at once count each other."""
    Player.objects.select_for_update().filter(pk=player.pk).first()
    active = (
        Match.objects.filter(status=Status.ACTIVE, seats__player=player)
        .filter(pk__in=Seat.objects.filter(player__bot__isnull=False).values("match_id"))
        .count()
    )
    if active >= settings.BOTS_MAX_ACTIVE_MATCHES_PER_PLAYER:
        raise GameError(
            ErrorCode.TOO_MANY_OPEN_MATCHES,
            f"you already play the computer in {active} matches; finish one first",
        )
