"""The ``data`` of every event type: small, stable JSON built from what the
signals pass (the README shows an example of each).

The same objects appear under the same field names in every type:

* player: ``{"id", "name", "is_bot"}``
* match: ``{"id", "game", "options", "rated", "status", "players", "url"}``,
  ``players`` being ``[{"seat", "id", "name", "is_bot"}]`` in seat order and
  ``url`` the match page's path on this server;
* tournament: ``{"id", "name", "game", "options", "status", "entry_fee",
  "currency", "capacity", "url"}``, the fee in minor units;
* entry: ``{"id", "tournament", "player", "status", "amount_paid",
  "currency_paid"}``, with the tournament and player objects.

No move lists, game states or bracket trees: a payload stays a few hundred
bytes whatever the match, far below :data:`MAX_BYTES`. Fields may be added
over time; none is renamed or removed.
"""

from __future__ import annotations

from typing import Any

from games.engine.match import Event, MatchData
from games.engine.options import is_rated
from games.models import Player
from payments.models import PaymentEvent
from tournaments.models import Entry, Pairing, Tournament

Data = dict[str, Any]

# The bound every payload keeps (the tests check each type against it).
MAX_BYTES = 20 * 1024
REASON_MAX_LENGTH = 500


def player(row: Player) -> Data:
    return {"id": row.pk, "name": row.name, "is_bot": row.is_bot}


def match(data: MatchData) -> Data:
    """A match as ``match.*`` events show it (one query, for the players' ``is_bot``)."""
    ids = [entry["id"] for entry in data["players"]]
    bots = dict(Player.objects.filter(pk__in=ids).values_list("pk", "is_bot"))
    players = [
        {"seat": entry["seat"], "id": entry["id"], "name": entry["name"], "is_bot": bots.get(entry["id"], False)}
        for entry in sorted(data["players"], key=lambda entry: entry["seat"])
    ]
    return {
        "id": data["id"],
        "game": data["game"],
        "options": data["options"],
        "rated": is_rated(data["options"]),
        "status": str(data["status"]),
        "players": players,
        "url": f"/matches/{data['id']}/",
    }


def match_finished(data: MatchData) -> Data:
    """The match with its ``result``: ``winner`` (a seat, or null for a
    draw), ``reason``, and ``ratings`` (each seat's change) when it was rated."""
    return {**match(data), "result": data["result"]}


def match_aborted(data: MatchData, event: Event) -> Data:
    """The match with the ``reason`` staff gave in the abort, or null."""
    move = event["move"]
    reason = move.get("reason") if isinstance(move, dict) else None
    return {**match(data), "reason": reason}


def tournament(row: Tournament) -> Data:
    return {
        "id": row.pk,
        "name": row.name,
        "game": row.game,
        "options": row.options,
        "status": row.status,
        "entry_fee": row.entry_fee,
        "currency": row.currency,
        "capacity": row.capacity,
        "url": f"/tournaments/{row.pk}/",
    }


def tournament_started(row: Tournament) -> Data:
    """The tournament with ``entrants``, the number of confirmed entries in its bracket."""
    return {**tournament(row), "entrants": row.entries.filter(status=Entry.Status.CONFIRMED).count()}


def tournament_match_ready(row: Tournament, pairing: Pairing, data: MatchData) -> Data:
    """A bracket match to play: where it sits in the bracket and the match
    itself; ``tiebreak`` when an earlier match of the pairing was drawn or aborted."""
    return {
        "tournament": tournament(row),
        "round": pairing.round,
        "slot": pairing.slot,
        "tiebreak": pairing.bracket_matches.count() > 1,
        "match": match(data),
    }


def tournament_finished(row: Tournament) -> Data:
    return {**tournament(row), "winner": player(row.winner) if row.winner else None}


def tournament_cancelled(row: Tournament, reason: str) -> Data:
    return {**tournament(row), "reason": reason}


def entry(row: Entry, of: Tournament) -> Data:
    return {
        "id": row.pk,
        "tournament": tournament(of),
        "player": player(row.player),
        "status": row.status,
        "amount_paid": row.amount_paid,
        "currency_paid": row.currency_paid or None,
    }


def entry_flagged(payment: PaymentEvent, row: Entry | None, reason: str) -> Data:
    """A payment staff must look at: the entry it concerns (null when it
    matches none), why, and which delivery of which gateway it was."""
    return {
        "entry": entry(row, row.tournament) if row is not None else None,
        "reason": reason[:REASON_MAX_LENGTH],
        "payment": {"provider": payment.provider, "event_id": payment.event_id, "type": payment.type},
    }
