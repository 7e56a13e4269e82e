"""Signal receivers that turn the other apps' events into messages.

Each runs inside the transaction of its event (every signal here is sent
there) and writes the message through :func:`webhooks.outbox.emit`, so the
message commits or rolls back with the event. The other apps know nothing of
webhooks: they only send their signals.

Which signal gives which type:

* ``match.started``: ``games.signals.match_status_changed`` when the status
  becomes ``active`` (the last seat taken); a match becomes active once.
* ``match.finished`` / ``match.aborted``: ``games.signals.match_ended``, by
  the final status; a match ends once (under its row lock).
* ``tournament.*`` and ``entry.confirmed``: ``tournaments.signals``.
* ``entry.flagged``: ``payments.signals.entry_flagged``.
* ``player.created``: ``post_save`` of ``games.models.Player``.

A payload is built only when some endpoint asks for its type, so with no
endpoint an event costs one small query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from games.engine.match import Event, MatchData, Status
from games.models import Player
from games.signals import match_ended, match_status_changed
from payments.models import PaymentEvent
from payments.signals import entry_flagged
from tournaments.models import Entry, Pairing, Tournament
from tournaments.signals import (
    entry_confirmed,
    tournament_cancelled,
    tournament_finished,
    tournament_match_ready,
    tournament_started,
)
from webhooks import outbox, payloads
from webhooks.events import EventType


def _emit(event_type: EventType, build: Callable[[], dict[str, Any]]) -> None:
    """Write ``event_type`` with the data ``build`` makes, if any endpoint wants it."""
    wanted = outbox.subscribers(event_type)
    if wanted:
        outbox.emit(event_type, build(), endpoints=wanted)


@receiver(match_status_changed, dispatch_uid="webhooks.match_started")
def on_match_status_changed(sender: Any, data: MatchData, previous: str, **kwargs: Any) -> None:
    if data["status"] == Status.ACTIVE and previous != Status.ACTIVE:
        _emit(EventType.MATCH_STARTED, lambda: payloads.match(data))


@receiver(match_ended, dispatch_uid="webhooks.match_ended")
def on_match_ended(sender: Any, data: MatchData, event: Event, **kwargs: Any) -> None:
    if data["status"] == Status.FINISHED:
        _emit(EventType.MATCH_FINISHED, lambda: payloads.match_finished(data))
    else:
        _emit(EventType.MATCH_ABORTED, lambda: payloads.match_aborted(data, event))


@receiver(tournament_started, dispatch_uid="webhooks.tournament_started")
def on_tournament_started(sender: Any, tournament: Tournament, **kwargs: Any) -> None:
    _emit(EventType.TOURNAMENT_STARTED, lambda: payloads.tournament_started(tournament))


@receiver(tournament_match_ready, dispatch_uid="webhooks.tournament_match_ready")
def on_tournament_match_ready(
    sender: Any, tournament: Tournament, pairing: Pairing, match: MatchData, **kwargs: Any
) -> None:
    _emit(EventType.TOURNAMENT_MATCH_READY, lambda: payloads.tournament_match_ready(tournament, pairing, match))


@receiver(tournament_finished, dispatch_uid="webhooks.tournament_finished")
def on_tournament_finished(sender: Any, tournament: Tournament, **kwargs: Any) -> None:
    _emit(EventType.TOURNAMENT_FINISHED, lambda: payloads.tournament_finished(tournament))


@receiver(tournament_cancelled, dispatch_uid="webhooks.tournament_cancelled")
def on_tournament_cancelled(sender: Any, tournament: Tournament, reason: str, **kwargs: Any) -> None:
    _emit(EventType.TOURNAMENT_CANCELLED, lambda: payloads.tournament_cancelled(tournament, reason))


@receiver(entry_confirmed, dispatch_uid="webhooks.entry_confirmed")
def on_entry_confirmed(sender: Any, entry: Entry, tournament: Tournament, **kwargs: Any) -> None:
    _emit(EventType.ENTRY_CONFIRMED, lambda: payloads.entry(entry, tournament))


@receiver(entry_flagged, dispatch_uid="webhooks.entry_flagged")
def on_entry_flagged(sender: Any, payment: PaymentEvent, entry: Entry | None, reason: str, **kwargs: Any) -> None:
    _emit(EventType.ENTRY_FLAGGED, lambda: payloads.entry_flagged(payment, entry, reason))


@receiver(post_save, sender=Player, dispatch_uid="webhooks.player_created")
def on_player_saved(sender: Any, instance: Player, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:  # raw: loaded from a fixture, not a new player
        _emit(EventType.PLAYER_CREATED, lambda: payloads.player(instance))
