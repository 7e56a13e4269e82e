"""The database side of sending: claiming due deliveries, recording attempts,
and deleting old messages. Synchronous; the sender runs it on threads.

Any number of senders (the worker's, each server process's in the embedded
default, ``manage.py sendwebhooks``) may run at once. A sender *claims* a
delivery before posting it: ``claimed_by`` names the sender and
``claimed_until`` says when the claim lapses (``WEBHOOKS_CLAIM_SECONDS``), so
a delivery whose sender died is taken over once its claim lapses and nothing
is lost. Claiming locks the candidate rows with ``SKIP LOCKED`` on PostgreSQL
(two senders never wait for nor take each other's rows), then sets the claim
with an UPDATE conditioned on the claim still being free; on SQLite, where
``SKIP LOCKED`` does not exist, the IMMEDIATE transaction serialises the
claimers instead. Each endpoint's row is locked too, one at a time just
before its deliveries are chosen (``FOR NO KEY UPDATE SKIP LOCKED``, which
does not block the transactions that add deliveries), so senders claiming
for one endpoint take turns and its in-flight limit
(``WEBHOOKS_CONCURRENCY_PER_ENDPOINT``) holds across every sender, while
senders claiming at the same moment for different endpoints both proceed.

Endpoints that are failing (``failing_since`` set: every attempt since its
last success failed) are served after the healthy ones, one attempt in
flight each, and within a budget the sender passes (half its slots): however
many endpoints are down, the healthy ones keep the other half.

Recording is fenced by the claim: a sender whose claim lapsed and was taken
over stores its attempt but no longer changes the delivery.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from webhooks.models import Attempt, Delivery, Endpoint, EndpointSecret, Message

logger = logging.getLogger(__name__)

# The response excerpt an attempt stores: the sender reads at most this many
# bytes of the body, which decode to at most this many characters.
EXCERPT_CHARS = 1000
ERROR_CHARS = 300
JITTER = 0.1
MAX_RETRY_AFTER_SECONDS = 24 * 3600
PRUNE_BATCH = 500
# A rotated-out secret is deleted this long after it stopped signing.
EXPIRED_SECRET_KEPT = timedelta(days=1)
FAILING_CONCURRENCY = 1  # attempts in flight to one failing endpoint
RETRY_AFTER_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ClaimedDelivery:
    """What a sender needs to make one attempt, and the claim it holds."""

    delivery_id: int
    message_id: str
    body: str
    endpoint_id: int
    url: str
    secrets: list[str]
    attempts: int
    claimed_by: str
    claimed_until: datetime
    failing: bool = False


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: a status code (any answer), or an error
    (no answer: refused address, connection failure, timeout)."""

    at: datetime
    duration_ms: int
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    retry_after: str | None = field(default=None, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- claiming ------------------------------------------------------------------


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def _due(now: datetime) -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        _unclaimed(now), status=Delivery.Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
    )


def _endpoints_with_due_work(now: datetime) -> tuple[list[int], set[int]]:
    """Endpoints that have due deliveries, the healthy ones first and then
    the longest-waiting first; and which of them are failing."""
    rows = (
        _due(now)
        .values("endpoint_id", "endpoint__failing_since")
        .annotate(oldest=Min("next_attempt_at"))
        .order_by("oldest", "endpoint_id")
    )
    failing = {row["endpoint_id"] for row in rows if row["endpoint__failing_since"] is not None}
    ordered = sorted((row["endpoint_id"] for row in rows), key=lambda endpoint_id: endpoint_id in failing)
    return ordered, failing


def _lock(endpoint_id: int, now: datetime) -> int | None:
    """Lock the endpoint's row for the rest of the claim's transaction and
    return how many of its deliveries are in flight; None when another
    sender holds it (PostgreSQL, ``SKIP LOCKED``: it is skipped, not waited
    for). Counting after the lock sees every claim another sender committed
    for it, so its in-flight limit holds across senders. On SQLite the
    IMMEDIATE transaction already keeps claimers apart."""
    if connection.vendor == "postgresql":
        locked = (
            Endpoint.objects.filter(pk=endpoint_id, enabled=True)
            .select_for_update(skip_locked=True, no_key=True)
            .values_list("pk", flat=True)
        )
        if not list(locked):
            return None
    return _in_flight([endpoint_id], now).get(endpoint_id, 0)


def _in_flight(endpoint_ids: list[int], now: datetime) -> dict[int, int]:
    """How many deliveries of each endpoint are claimed and not lapsed."""
    rows = (
        Delivery.objects.filter(endpoint_id__in=endpoint_ids, status=Delivery.Status.PENDING, claimed_until__gt=now)
        .values("endpoint_id")
        .annotate(count=Count("pk"))
    )
    return {row["endpoint_id"]: row["count"] for row in rows}


def _cap(is_failing: bool) -> int:
    """Attempts in flight one endpoint may have, across every sender."""
    return FAILING_CONCURRENCY if is_failing else settings.WEBHOOKS_CONCURRENCY_PER_ENDPOINT


def _choose(now: datetime, limit: int, failing_limit: int) -> tuple[list[int], set[int]]:
    """Due deliveries to claim, at most ``limit`` (``failing_limit`` of them
    to failing endpoints), none beyond an endpoint's in-flight limit; each
    endpoint's oldest first. Inside the claim's transaction. Also returns
    the failing endpoints.

    Endpoints are locked one at a time, each just before its deliveries are
    chosen, and the choosing stops once ``limit`` are chosen: a sender locks
    only the endpoints it claims for, so another sender claiming at the same
    moment takes the others. An endpoint already at its limit (counted
    before locking) is skipped without locking it."""
    ordered, failing = _endpoints_with_due_work(now)
    counted = _in_flight(ordered, now)
    chosen: list[int] = []
    to_failing = 0
    for endpoint_id in ordered:
        is_failing = endpoint_id in failing
        budget = limit - len(chosen)
        if is_failing:
            budget = min(budget, failing_limit - to_failing)
        if min(budget, _cap(is_failing) - counted.get(endpoint_id, 0)) <= 0:
            continue
        in_flight = _lock(endpoint_id, now)
        if in_flight is None:
            continue
        room = min(budget, _cap(is_failing) - in_flight)
        if room <= 0:
            continue
        rows = (
            _due(now)
            .filter(endpoint_id=endpoint_id)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:room]
        )
        chosen.extend(rows)
        to_failing += len(rows) if is_failing else 0
        if len(chosen) >= limit:
            break
    return chosen, failing


def claim(sender_id: str, limit: int, failing_limit: int | None = None) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due deliveries for ``sender_id`` (at most 40
    characters) until ``WEBHOOKS_CLAIM_SECONDS`` from now, at most
    ``failing_limit`` of them (default: ``limit``) to failing endpoints."""
    if limit <= 0 or not _due(timezone.now()).exists():  # the common case, without a write transaction
        return []
    with transaction.atomic():
        now = timezone.now()  # after BEGIN, which on SQLite may have waited for the write lock
        until = now + timedelta(seconds=settings.WEBHOOKS_CLAIM_SECONDS)
        chosen, failing = _choose(now, limit, limit if failing_limit is None else failing_limit)
        if not chosen:
            return []
        Delivery.objects.filter(_unclaimed(now), pk__in=chosen, status=Delivery.Status.PENDING).update(
            claimed_by=sender_id, claimed_until=until
        )
    held = Delivery.objects.filter(pk__in=chosen, claimed_by=sender_id, claimed_until=until)
    return _claimed(held.select_related("message", "endpoint").order_by("next_attempt_at", "pk"), now, failing)


def _claimed(deliveries: Iterable[Delivery], now: datetime, failing: set[int]) -> list[ClaimedDelivery]:
    secrets: dict[int, list[str]] = {}
    claimed = []
    for delivery in deliveries:
        endpoint, message = delivery.endpoint, delivery.message
        if endpoint.pk not in secrets:
            secrets[endpoint.pk] = endpoint.signing_secrets(now)
        assert delivery.claimed_until is not None
        claimed.append(
            ClaimedDelivery(
                delivery_id=delivery.pk,
                message_id=message.pk,
                body=message.body,
                endpoint_id=endpoint.pk,
                url=endpoint.url,
                secrets=secrets[endpoint.pk],
                attempts=delivery.attempts,
                claimed_by=delivery.claimed_by,
                claimed_until=delivery.claimed_until,
                failing=endpoint.pk in failing,
            )
        )
    return claimed


# --- recording -----------------------------------------------------------------


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header (seconds, or an HTTP date) as seconds from
    ``now``; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if RETRY_AFTER_DIGITS.fullmatch(value):
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
        if moment.tzinfo is None:
            return None
        return max(0.0, (moment - now).total_seconds())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def next_delay(attempts_made: int, outcome: Outcome) -> float | None:
    """Seconds until the next attempt after ``attempts_made`` attempts, the
    last of which failed with ``outcome``; None when the schedule is over.
    Each delay gets up to 10% of jitter, so the retries of many deliveries
    that failed together (an endpoint that was down) do not arrive together.
    A 429 or 503 with ``Retry-After`` waits at least that long (capped at 24 h)."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if attempts_made >= len(schedule):
        return None
    delay = schedule[attempts_made] * (1 + random.uniform(0, JITTER))
    if outcome.status_code in (429, 503):
        asked = retry_after_seconds(outcome.retry_after, outcome.at)
        if asked is not None:
            delay = max(delay, min(asked, MAX_RETRY_AFTER_SECONDS))
    return delay


def _bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, without NUL (PostgreSQL's text holds none)."""
    return text.replace("\x00", "")[:limit]


def record(claimed: ClaimedDelivery, outcome: Outcome) -> Attempt | None:
    """Store the attempt and move the delivery on (succeeded, retried later,
    or failed), if this sender still holds its claim. Returns the attempt,
    or None when the delivery is gone (its message was deleted meanwhile)."""
    with transaction.atomic():
        if not Delivery.objects.select_for_update().filter(pk=claimed.delivery_id).values_list("pk").first():
            return None
        attempt = Attempt.objects.create(
            delivery_id=claimed.delivery_id,
            endpoint_id=claimed.endpoint_id,
            message_id=claimed.message_id,
            at=outcome.at,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            response_excerpt=_bounded(outcome.excerpt, EXCERPT_CHARS),
            duration_ms=max(0, outcome.duration_ms),
            error=_bounded(outcome.error, ERROR_CHARS),
        )
        held = Delivery.objects.filter(
            pk=claimed.delivery_id,
            status=Delivery.Status.PENDING,
            claimed_by=claimed.claimed_by,
            claimed_until=claimed.claimed_until,
        )
        if outcome.succeeded:
            _succeeded(held, claimed)
        else:
            _failed(held, claimed, outcome)
    return attempt


def _succeeded(held: QuerySet[Delivery], claimed: ClaimedDelivery) -> None:
    now = timezone.now()
    if held.update(
        status=Delivery.Status.SUCCEEDED,
        attempts=claimed.attempts + 1,
        finished_at=now,
        next_attempt_at=None,
        claimed_until=None,
    ):
        Endpoint.objects.filter(pk=claimed.endpoint_id, failing_since__isnull=False).update(failing_since=None)


def _failed(held: QuerySet[Delivery], claimed: ClaimedDelivery, outcome: Outcome) -> None:
    now = timezone.now()
    attempts = claimed.attempts + 1
    if outcome.status_code == 410:
        if held.update(status=Delivery.Status.FAILED, attempts=attempts, finished_at=now, claimed_until=None):
            _disable(claimed.endpoint_id, Q(), "the endpoint answered 410 Gone")
        return
    delay = next_delay(attempts, outcome)
    if delay is None:
        changed = held.update(status=Delivery.Status.FAILED, attempts=attempts, finished_at=now, claimed_until=None)
    else:
        retry_at = now + timedelta(seconds=delay)
        changed = held.update(attempts=attempts, next_attempt_at=retry_at, claimed_until=None)
    if changed:
        _note_failure(claimed.endpoint_id, outcome.at, now)


def _note_failure(endpoint_id: int, at: datetime, now: datetime) -> None:
    """Remember when the endpoint started failing; disable it once every
    attempt has failed for ``WEBHOOKS_DISABLE_AFTER_SECONDS``."""
    Endpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(failing_since=at)
    limit = settings.WEBHOOKS_DISABLE_AFTER_SECONDS
    cutoff = now - timedelta(seconds=limit)
    _disable(endpoint_id, Q(failing_since__lte=cutoff), f"every attempt failed for {_duration(limit)}")


def _disable(endpoint_id: int, condition: Q, reason: str) -> None:
    if Endpoint.objects.filter(condition, pk=endpoint_id, enabled=True).update(
        enabled=False, needs_attention=True, disabled_reason=reason, updated_at=timezone.now()
    ):
        logger.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)


def _duration(seconds: float) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{int(seconds // 86400)} days"
    return f"{seconds:g} seconds"


# --- retention -----------------------------------------------------------------


def prune(now: datetime | None = None) -> int:
    """Delete messages older than ``WEBHOOKS_RETENTION_DAYS`` with their
    deliveries and attempts, in batches; returns how many messages went. A
    message whose delivery is being attempted right now waits for the next run.
    Also deletes the secrets that stopped signing more than a day ago: they
    can never sign again."""
    now = now or timezone.now()
    EndpointSecret.objects.filter(expires_at__lt=now - EXPIRED_SECRET_KEPT).delete()
    cutoff = now - timedelta(days=settings.WEBHOOKS_RETENTION_DAYS)
    in_flight = Delivery.objects.filter(message=OuterRef("pk"), status=Delivery.Status.PENDING, claimed_until__gt=now)
    old = Message.objects.filter(~Exists(in_flight), created_at__lt=cutoff)
    deleted = 0
    while True:
        batch = list(old.order_by("created_at").values_list("pk", flat=True)[:PRUNE_BATCH])
        if not batch:
            return deleted
        with transaction.atomic():
            Message.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
