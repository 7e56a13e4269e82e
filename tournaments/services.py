"""Tournaments: entries, the single-elimination bracket, and its live view.

Every change locks the tournament row, raises its ``seq`` and pushes the
new view to ``/ws/tournaments/<id>/`` after commit, like matches do.

Bracket rules (documented in the README):

* Seeds follow the players' ratings in the tournament's rating pool
  (``ratings.pools.pool_for`` of its game and options), highest first, entry
  order breaking ties (so unrated players, at the initial rating, keep the
  order they entered in); the bracket has the next power of two of slots,
  seeded 1 v N, 2 v N-1, ... so byes go to the top seeds and advance at once.
* A drawn (or aborted) match is replayed as a tiebreak with the seats
  swapped, as often as needed; the next match's winner moves on.
* Fewer than two confirmed entries at the start cancels the tournament, and
  paid entries become ``refund_due``.

The engine tells this module a match ended through ``games.signals.match_ended``
(connected in ``TournamentsConfig.ready``); the clock loop runs
:func:`start_due` every sweep (registered there too). This module tells
other apps of its changes through ``tournaments.signals``, inside the
transaction that makes each one.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from games import services
from games.broadcast import match_ready_broadcast, send_to_group
from games.engine import InvalidOptions, UnknownGame, get_game
from games.engine.clocks import format_time
from games.engine.errors import GameError
from games.engine.options import validate_options
from games.models import Match, Player
from ratings.pools import pool_for
from ratings.services import ratings_of
from tournaments.models import BracketMatch, Entry, Pairing, Tournament
from tournaments.signals import (
    entry_confirmed,
    tournament_cancelled,
    tournament_finished,
    tournament_match_ready,
    tournament_started,
)

CURRENCY_LENGTH = 3


def tournament_group(tournament_id: int) -> str:
    return f"tournament.{tournament_id}"


def player_group(player_id: int) -> str:
    return f"player.{player_id}"


# --- reading ---------------------------------------------------------------


def _player(player: Player | None) -> dict[str, Any] | None:
    return {"id": player.pk, "name": player.name} if player else None


def tournament_view(tournament: Tournament) -> dict[str, Any]:
    """The public view of a tournament, entries and bracket included."""
    entries = list(tournament.entries.select_related("player"))
    by_id = {entry.pk: entry for entry in entries}
    pairings = list(tournament.pairings.prefetch_related("bracket_matches"))
    rounds: dict[int, list[dict[str, Any]]] = {}
    for pairing in pairings:
        sides = [by_id.get(pairing.entry_a_id), by_id.get(pairing.entry_b_id)]
        games = sorted(link.match_id for link in pairing.bracket_matches.all())
        current = games[-1] if games else None
        rounds.setdefault(pairing.round, []).append(
            {
                "slot": pairing.slot,
                "players": [_player(side.player) if side else None for side in sides],
                "match": current,
                "status": _pairing_status(pairing, current),
                "winner": _player(by_id[pairing.winner_id].player) if pairing.winner_id else None,
                "games": games,
            }
        )
    return {
        "id": tournament.pk,
        "name": tournament.name,
        "game": tournament.game,
        "options": tournament.options,
        "entry_fee": tournament.entry_fee,
        "currency": tournament.currency,
        "capacity": tournament.capacity,
        "starts_at": format_time(tournament.starts_at) if tournament.starts_at else None,
        "status": tournament.status,
        "seq": tournament.seq,
        "confirmed": sum(entry.status == Entry.Status.CONFIRMED for entry in entries),
        "entries": [{"id": e.pk, "player": _player(e.player), "status": e.status} for e in entries],
        "bracket": [{"round": number, "matches": slots} for number, slots in sorted(rounds.items())],
        "winner": _player(tournament.winner),
    }


def entry_of(tournament: Tournament, player: Player | None) -> dict[str, Any] | None:
    """``player``'s own entry, with the payment instructions its gateway
    needs, or None. Only for the entrant (GET /api/tournaments/<id> as that
    player): the public view never shows a payment reference."""
    entry = tournament.entries.filter(player=player).first() if player is not None else None
    if entry is None:
        return None
    return {"id": entry.pk, "status": entry.status, "payment": payment_instructions(entry, tournament)}


def payment_instructions(entry: Entry, tournament: Tournament) -> dict[str, Any] | None:
    """What the client takes to the gateway's checkout; None when free."""
    if not tournament.entry_fee:
        return None
    return {
        "provider": settings.PAYMENTS_PROVIDER,
        "client_reference_id": entry.client_reference_id,
        "amount": tournament.entry_fee,
        "currency": tournament.currency,
    }


def _pairing_status(pairing: Pairing, current_match: int | None) -> str:
    if pairing.winner_id:
        return "bye" if current_match is None else "finished"
    if current_match is not None:
        return "active"
    return "pending"


def get_tournament(tournament_id: int) -> Tournament:
    tournament = Tournament.objects.filter(pk=tournament_id).select_related("winner").first()
    if tournament is None:
        raise GameError("not_found", f"no tournament {tournament_id}")
    return tournament


def tournament_snapshot(tournament_id: int) -> dict[str, Any]:
    return tournament_view(get_tournament(tournament_id))


# --- writing ---------------------------------------------------------------


def lock_tournament(tournament_id: int) -> Tournament:
    tournament = Tournament.objects.select_for_update().filter(pk=tournament_id).first()
    if tournament is None:
        raise GameError("not_found", f"no tournament {tournament_id}")
    return tournament


def changed(tournament: Tournament) -> None:
    """Raise the version and push the new view to watchers after commit.
    Must run inside the transaction that holds the tournament's row lock."""
    tournament.seq += 1
    tournament.save()
    tournament_id = tournament.pk

    def push() -> None:
        view = tournament_snapshot(tournament_id)
        send_to_group(tournament_group(tournament_id), {"type": "tournament.changed", "tournament": view})

    transaction.on_commit(push, robust=True)


def create_tournament(
    name: str,
    game: str,
    options: dict[str, Any],
    entry_fee: int,
    currency: str,
    capacity: int,
    starts_at: datetime | None,
) -> Tournament:
    try:
        get_game(game)
        options = validate_options(game, options)
    except UnknownGame:
        raise GameError("unknown_game", f"unknown game {game!r}") from None
    except InvalidOptions as problem:
        raise GameError("invalid_options", str(problem)) from None
    if not name.strip():
        raise GameError("bad_request", "a tournament needs a name")
    if capacity < 2:
        raise GameError("bad_request", "capacity must be at least 2")
    if entry_fee < 0 or len(currency) != CURRENCY_LENGTH or not currency.isalpha():
        raise GameError("bad_request", "entry_fee is a whole number of minor units and currency an ISO code like eur")
    return Tournament.objects.create(
        name=name.strip(),
        game=game,
        options=options,
        entry_fee=entry_fee,
        currency=currency.lower(),
        capacity=capacity,
        starts_at=starts_at,
    )


def enter(tournament_id: int, player: Player) -> Entry:
    """Enter ``player``: confirmed at once for a free tournament, else
    pending until the payment gateway's webhook confirms it."""
    with transaction.atomic():
        tournament = lock_tournament(tournament_id)
        if tournament.status != Tournament.Status.REGISTRATION:
            raise GameError("registration_closed", f"the tournament is {tournament.status}")
        if Entry.objects.filter(tournament=tournament, player=player).exists():
            raise GameError("already_entered", "you have already entered this tournament")
        free = tournament.entry_fee == 0
        if free and confirmed_count(tournament) >= tournament.capacity:
            raise GameError("tournament_full", "every place is taken")
        entry = Entry.objects.create(
            tournament=tournament,
            player=player,
            status=Entry.Status.CONFIRMED if free else Entry.Status.PENDING_PAYMENT,
            client_reference_id=f"entry_{secrets.token_urlsafe(18)}",
            confirmed_at=timezone.now() if free else None,
        )
        if free:
            entry_confirmed.send(sender=Entry, entry=entry, tournament=tournament)
        changed(tournament)
    return entry


def confirmed_count(tournament: Tournament) -> int:
    return tournament.entries.filter(status=Entry.Status.CONFIRMED).count()


def start(tournament_id: int) -> Tournament:
    """Close registration and create the bracket (staff, or at ``starts_at``)."""
    with transaction.atomic():
        tournament = lock_tournament(tournament_id)
        if tournament.status != Tournament.Status.REGISTRATION:
            raise GameError("registration_closed", f"the tournament is {tournament.status}")
        confirmed = list(tournament.entries.filter(status=Entry.Status.CONFIRMED).select_related("player"))
        tournament.started_at = timezone.now()
        if len(confirmed) < 2:
            tournament.status = Tournament.Status.CANCELLED
            tournament.entries.filter(status=Entry.Status.CONFIRMED, amount_paid__gt=0).update(
                status=Entry.Status.REFUND_DUE, note="tournament cancelled: too few players"
            )
            tournament_cancelled.send(sender=Tournament, tournament=tournament, reason="too_few_players")
            changed(tournament)
            return tournament
        tournament.status = Tournament.Status.RUNNING
        tournament_started.send(sender=Tournament, tournament=tournament)
        _build_bracket(tournament, by_rating(tournament, confirmed))
        changed(tournament)
    return tournament


def by_rating(tournament: Tournament, entries: list[Entry]) -> list[Entry]:
    """``entries`` (in entry order) as seeds: the highest rating in the
    tournament's pool first; a stable sort, so ties keep entry order."""
    rating = ratings_of([entry.player_id for entry in entries], pool_for(tournament.game, tournament.options))
    return sorted(entries, key=lambda entry: -rating[entry.player_id])


def seed_order(size: int) -> list[int]:
    """Seed numbers (1-based) in bracket order for a power-of-two ``size``:
    1 v size, and the top seeds meet as late as possible."""
    order = [1]
    while len(order) < size:
        total = len(order) * 2 + 1
        order = [seed for top in order for seed in (top, total - top)]
    return order


def _build_bracket(tournament: Tournament, seeded: list[Entry]) -> None:
    size = 1
    while size < len(seeded):
        size *= 2
    positions = [seeded[seed - 1] if seed <= len(seeded) else None for seed in seed_order(size)]
    rounds, slots = 1, size // 2
    while slots >= 1:
        Pairing.objects.bulk_create([Pairing(tournament=tournament, round=rounds, slot=s) for s in range(slots)])
        rounds, slots = rounds + 1, slots // 2
    for slot in range(size // 2):
        pairing = Pairing.objects.get(tournament=tournament, round=1, slot=slot)
        pairing.entry_a, pairing.entry_b = positions[2 * slot], positions[2 * slot + 1]
        pairing.save()
        if pairing.entry_b is None:  # a bye
            _advance(tournament, pairing, pairing.entry_a)
        else:
            _play(tournament, pairing, [pairing.entry_a, pairing.entry_b])


def _play(tournament: Tournament, pairing: Pairing, entries: list[Entry]) -> None:
    """Start the pairing's next match, with both players seated, and tell
    each of them on their tournament sockets once it is committed."""
    players = [entry.player for entry in entries]
    started = services.start_match(players, tournament.game, tournament.options)
    BracketMatch.objects.create(match_id=started.match["id"], pairing=pairing)
    tournament_match_ready.send(sender=Tournament, tournament=tournament, pairing=pairing, match=started.match)
    _write_previous_release_link(started.match["id"], pairing.pk)
    for seat, player in enumerate(players):
        message = match_ready_broadcast(tournament.pk, started, seat)
        transaction.on_commit(lambda p=player, m=message: send_to_group(player_group(p.pk), m), robust=True)


def _advance(tournament: Tournament, pairing: Pairing, winner: Entry) -> None:
    pairing.winner = winner
    pairing.save(update_fields=["winner"])
    following = Pairing.objects.filter(tournament=tournament, round=pairing.round + 1, slot=pairing.slot // 2).first()
    if following is None:  # that was the final
        tournament.status = Tournament.Status.FINISHED
        tournament.winner = winner.player
        tournament.finished_at = timezone.now()
        tournament_finished.send(sender=Tournament, tournament=tournament)
        return
    if pairing.slot % 2 == 0:
        following.entry_a = winner
    else:
        following.entry_b = winner
    following.save(update_fields=["entry_a", "entry_b"])
    if following.entry_a_id and following.entry_b_id:
        _play(tournament, following, [following.entry_a, following.entry_b])


def on_match_ended(sender: Any, match: Match, data: dict[str, Any], **kwargs: Any) -> None:
    """A bracket match ended: advance its winner, or replay a draw (or an
    aborted match) with the seats swapped. Runs in the match's transaction
    (a ``games.signals.match_ended`` receiver)."""
    link = BracketMatch.objects.filter(match_id=match.pk).first() or _adopt_previous_release_link(match.pk)
    if link is None:
        return
    pairing = Pairing.objects.select_related("entry_a__player", "entry_b__player").get(pk=link.pairing_id)
    tournament = lock_tournament(pairing.tournament_id)
    if pairing.winner_id or tournament.status != Tournament.Status.RUNNING:
        return
    result = data["result"] or {}
    seats = {p["seat"]: p["id"] for p in data["players"]}
    winner_player = seats.get(result.get("winner")) if result.get("winner") is not None else None
    if winner_player is None:
        first_seat = seats[0]
        order = [pairing.entry_a, pairing.entry_b]
        if order[0].player_id == first_seat:
            order.reverse()
        _play(tournament, pairing, order)
    else:
        winner = pairing.entry_a if pairing.entry_a.player_id == winner_player else pairing.entry_b
        _advance(tournament, pairing, winner)
    changed(tournament)


# --- the previous release's link column -------------------------------------
# The previous release links a bracket match through games_match.pairing_id,
# which games 0008 kept for it. During a deploy both releases serve: a match
# one of them starts may end on the other. So this release writes the column
# too, and adopts a link only the column holds. Both go with the release that
# drops the column (which first copies the links once more).


def _write_previous_release_link(match_id: int, pairing_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE games_match SET pairing_id = %s WHERE id = %s", [pairing_id, match_id])


def _adopt_previous_release_link(match_id: int) -> BracketMatch | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pairing_id FROM games_match WHERE id = %s", [match_id])
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    link, _ = BracketMatch.objects.get_or_create(match_id=match_id, defaults={"pairing_id": row[0]})
    return link


def start_due(now: datetime | None = None) -> int:
    """Start every tournament whose start time has come (run by the clock loop)."""
    due = Tournament.objects.filter(status=Tournament.Status.REGISTRATION, starts_at__lte=now or timezone.now())
    started = 0
    for tournament_id in due.values_list("pk", flat=True):
        try:
            start(tournament_id)
            started += 1
        except GameError:
            pass  # started by someone else meanwhile
    return started
