"""Writing messages: the transactional outbox.

:func:`emit` writes the message and its deliveries in the caller's
transaction, so a rolled-back event sends nothing and a committed one is
never lost: senders find it in the database whatever happens to this
process after the commit. On commit it wakes the senders (this process's at
once; on PostgreSQL every process's through ``NOTIFY``, which PostgreSQL
delivers only if the transaction commits).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from webhooks.events import EventType
from webhooks.models import Delivery, Endpoint, Message

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "webhooks"
# Payloads are documented as well under 20 kB; a larger one is a bug worth a log line.
LARGE_BODY_CHARACTERS = 20_000
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Callables run after a commit that wrote deliveries (this process's senders).
_wake_hooks: list[Callable[[], None]] = []


def on_new_deliveries(hook: Callable[[], None]) -> None:
    """Run ``hook`` (thread-safe, quick) after every commit that adds deliveries."""
    if hook not in _wake_hooks:
        _wake_hooks.append(hook)


def forget_hook(hook: Callable[[], None]) -> None:
    if hook in _wake_hooks:
        _wake_hooks.remove(hook)


def new_message_id(now: float | None = None) -> str:
    """``msg_`` and a ULID (time-ordered, 26 characters)."""
    value = (int((now or time.time()) * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "msg_" + "".join(reversed(chars))


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def body_of(event_type: str, moment: datetime, data: dict[str, Any]) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": format_timestamp(moment), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def subscribers(event_type: str) -> list[Endpoint]:
    """Every endpoint, enabled or not, that asks for ``event_type``."""
    return [endpoint for endpoint in Endpoint.objects.all() if endpoint.wants(event_type)]


def emit(
    event_type: EventType | str, data: dict[str, Any], endpoints: Iterable[Endpoint] | None = None
) -> Message | None:
    """Record ``event_type`` with ``data`` for the endpoints that want it
    (or only ``endpoints``, for a test event), inside the caller's
    transaction. Nothing is stored when no endpoint asks for the type; a
    disabled endpoint's messages are stored (so staff can replay them once
    it is enabled again) but get no delivery."""
    if not connection.in_atomic_block:
        raise RuntimeError("emit() runs inside the transaction of its event (transaction.atomic)")
    event_type = str(event_type)
    wanted = subscribers(event_type) if endpoints is None else list(endpoints)
    if not wanted:
        return None
    now = timezone.now()
    body = body_of(event_type, now, data)
    if len(body) > LARGE_BODY_CHARACTERS:
        logger.warning("webhook message %s is %d characters: payloads should stay small", event_type, len(body))
    with transaction.atomic():
        message = Message.objects.create(id=new_message_id(now.timestamp()), type=event_type, created_at=now, body=body)
        live = [endpoint for endpoint in wanted if endpoint.enabled]
        if live:
            Delivery.objects.bulk_create(
                [Delivery(message=message, endpoint=endpoint, next_attempt_at=now) for endpoint in live]
            )
            wake_senders()
    return message


def schedule(message_ids: Iterable[str], endpoints: Iterable[Endpoint], now: datetime) -> int:
    """Send every message of ``message_ids`` to every endpoint of
    ``endpoints`` again, due now (staff's resend and replay), in two
    statements: a new delivery, or the existing one starting its schedule
    over. Starting over drops a claim in flight, so the sender holding it
    records its attempt without undoing the new schedule. Inside a
    transaction. Returns the number of pairs."""
    message_ids, endpoints = list(message_ids), list(endpoints)
    if not message_ids or not endpoints:
        return 0
    Delivery.objects.bulk_create(
        [
            Delivery(message_id=mid, endpoint=endpoint, next_attempt_at=now)
            for mid in message_ids
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    Delivery.objects.filter(message_id__in=message_ids, endpoint__in=endpoints).filter(
        ~Q(status=Delivery.Status.PENDING) | Q(attempts__gt=0)
    ).update(status=Delivery.Status.PENDING, attempts=0, next_attempt_at=now, finished_at=None, claimed_until=None)
    wake_senders()
    return len(message_ids) * len(endpoints)


def wake_senders() -> None:
    """Tell the senders, once the current transaction commits, that deliveries are due."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [NOTIFY_CHANNEL])
    transaction.on_commit(_run_wake_hooks, robust=True)


def _run_wake_hooks() -> None:
    for hook in list(_wake_hooks):
        hook()
