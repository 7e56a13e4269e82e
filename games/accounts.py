"""Players, their API tokens and WebSocket tickets."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from games.models import Player, Ticket


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@transaction.atomic
def create_guest(name: str, is_bot: bool = False) -> tuple[Player, str]:
    """A new guest player with its own Django user; returns the player and
    its API token (shown once: only its hash is stored). ``is_bot``: an
    external program that declares itself a computer player."""
    user = get_user_model().objects.create_user(username=f"guest-{uuid.uuid4().hex[:12]}")
    token = secrets.token_urlsafe(32)
    player = Player.objects.create(user=user, name=name, token_hash=hash_secret(token), is_bot=is_bot)
    return player, token


def player_for_token(token: str) -> Player | None:
    if not token:
        return None
    return Player.objects.select_related("user").filter(token_hash=hash_secret(token), user__is_active=True).first()


def player_for_user(user) -> Player | None:
    """The player of an authenticated Django user; staff accounts made in the
    admin get one on first use."""
    if user is None or not user.is_authenticated:
        return None
    player, _ = Player.objects.get_or_create(user=user, defaults={"name": user.get_username()[:40]})
    return player


def rotate_token(user) -> str:
    """A fresh API token for ``user`` (made a player if needed); the old one stops working."""
    player = player_for_user(user)
    token = secrets.token_urlsafe(32)
    player.token_hash = hash_secret(token)
    player.save(update_fields=["token_hash"])
    return token


def issue_ticket(player: Player) -> tuple[str, int]:
    """A single-use WebSocket ticket and its lifetime in seconds."""
    ttl = settings.GAMES_TICKET_TTL_SECONDS
    key = secrets.token_urlsafe(24)
    Ticket.objects.create(key_hash=hash_secret(key), player=player, expires_at=timezone.now() + timedelta(seconds=ttl))
    return key, ttl


def redeem_ticket(key: str) -> Player | None:
    """The ticket's player, or ``None`` if it is unknown, expired or used.

    The conditional UPDATE is what makes it single-use: of two sockets
    presenting the same ticket at once, only one changes the row.
    """
    if not key:
        return None
    now = timezone.now()
    tickets = Ticket.objects.filter(key_hash=hash_secret(key), used_at__isnull=True, expires_at__gt=now)
    ticket = tickets.select_related("player__user").first()
    if ticket is None or tickets.filter(pk=ticket.pk).update(used_at=now) != 1:
        return None
    return ticket.player
