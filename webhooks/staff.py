"""What staff do with outgoing webhooks, for the admin and the staff API
alike: register and change endpoints, rotate their secrets, send a test
event, resend a message and replay what an endpoint missed.

Refusals are :class:`~games.engine.errors.GameError`: ``bad_request``,
``not_found``, and ``refused_url`` for an endpoint URL the address guard
(:mod:`webhooks.addresses`) refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from games.engine.errors import ErrorCode, GameError
from webhooks.addresses import RefusedURL, check_url
from webhooks.events import SUBSCRIBABLE, EventType
from webhooks.models import Delivery, Endpoint, EndpointSecret, Message, new_secret
from webhooks.outbox import emit, schedule, wake_senders

URL_MAX_LENGTH = Endpoint._meta.get_field("url").max_length or 2000
DESCRIPTION_MAX_LENGTH = Endpoint._meta.get_field("description").max_length or 200
MESSAGE_ID = re.compile(r"msg_[0-9A-Z]{26}")  # what outbox.new_message_id makes
REPLAY_BATCH = 500  # messages scheduled per transaction by a replay
ID_MAX = 2**63 - 1  # the largest id a BigAutoField holds: larger ones cannot exist
TEST_NOTE = "A test event sent by staff to check this endpoint; no action needed."


@dataclass(frozen=True)
class Fields:
    """An endpoint's fields staff set, validated."""

    url: str
    description: str
    event_types: list[str]


def clean_url(url: str) -> str:
    """The URL, or :class:`RefusedURL` (not http(s), http while
    ``WEBHOOKS_ALLOW_HTTP`` is off, or a host resolving to an address that is
    not public and outside ``WEBHOOKS_ALLOWED_NETWORKS``)."""
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise GameError(ErrorCode.BAD_REQUEST, f"url: at most {URL_MAX_LENGTH} characters")
    try:
        check_url(url)
    except RefusedURL as refusal:
        raise GameError(ErrorCode.REFUSED_URL, str(refusal)) from None
    return url


def clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise GameError(ErrorCode.BAD_REQUEST, f"description: at most {DESCRIPTION_MAX_LENGTH} characters")
    return description


def clean_event_types(event_types: Iterable[str]) -> list[str]:
    """Known, subscribable types, once each and in the catalogue's order
    (empty: every type)."""
    wanted = set(event_types)
    unknown = sorted(wanted - set(SUBSCRIBABLE))
    if unknown:
        raise GameError(
            ErrorCode.BAD_REQUEST, f"event_types: unknown {', '.join(unknown)} (known: {', '.join(SUBSCRIBABLE)})"
        )
    return [event_type for event_type in SUBSCRIBABLE if event_type in wanted]


def clean(url: str, description: str, event_types: Iterable[str]) -> Fields:
    return Fields(clean_url(url), clean_description(description), clean_event_types(event_types))


def get_endpoint(endpoint_id: int, *, for_update: bool = False) -> Endpoint:
    # NO KEY: a lock that does not wait for (nor block) the event transactions adding its deliveries.
    endpoints = Endpoint.objects.select_for_update(no_key=True) if for_update else Endpoint.objects.all()
    endpoint = endpoints.filter(pk=endpoint_id).first() if 0 < endpoint_id <= ID_MAX else None
    if endpoint is None:
        raise GameError(ErrorCode.NOT_FOUND, f"no webhook endpoint {endpoint_id}")
    return endpoint


def get_message(message_id: str) -> Message:
    message = Message.objects.filter(pk=message_id).first() if MESSAGE_ID.fullmatch(message_id) else None
    if message is None:
        raise GameError(ErrorCode.NOT_FOUND, f"no webhook message {message_id}")
    return message


def with_counts(endpoints: QuerySet[Endpoint]) -> QuerySet[Endpoint]:
    """Each endpoint with its deliveries counted by status (``pending``,
    ``succeeded``, ``failed`` attributes)."""
    return endpoints.annotate(
        **{status: Count("deliveries", filter=Q(deliveries__status=status)) for status in Delivery.Status.values}
    )


def live_secrets(endpoint: Endpoint, now: datetime | None = None) -> list[EndpointSecret]:
    """The secrets that sign now, newest (the current one) first; uses the
    endpoint's prefetched secrets when there are some."""
    now = now or timezone.now()
    return [secret for secret in endpoint.secrets.all() if secret.signs_at(now)]


# --- endpoints ------------------------------------------------------------------


def create_endpoint(url: str, description: str = "", event_types: Iterable[str] = (), enabled: bool = True) -> Endpoint:
    """A new endpoint with its first secret (generated here, never chosen by
    staff). The URL is checked (a DNS lookup) before the transaction opens,
    so a slow resolver holds no lock."""
    fields = clean(url, description, event_types)
    with transaction.atomic():
        endpoint = Endpoint.objects.create(
            url=fields.url, description=fields.description, event_types=fields.event_types, enabled=enabled
        )
        EndpointSecret.objects.create(endpoint=endpoint, secret=new_secret())
    return endpoint


def update_endpoint(
    endpoint_id: int,
    *,
    url: str | None = None,
    description: str | None = None,
    event_types: Iterable[str] | None = None,
    enabled: bool | None = None,
) -> Endpoint:
    """Change the fields given (``None``: unchanged). The URL is checked again
    only when it changes, so an endpoint whose host stopped resolving can
    still be renamed or disabled; the check (a DNS lookup) runs before the
    endpoint's row is locked."""
    new_url = url.strip() if url is not None else None
    if new_url is not None and new_url != get_endpoint(endpoint_id).url:
        new_url = clean_url(new_url)
    with transaction.atomic():
        endpoint = get_endpoint(endpoint_id, for_update=True)
        if new_url is not None:
            endpoint.url = new_url
        if description is not None:
            endpoint.description = clean_description(description)
        if event_types is not None:
            endpoint.event_types = clean_event_types(event_types)
        if enabled is not None:
            _set_enabled(endpoint, enabled)
        endpoint.save()
    return endpoint


def _set_enabled(endpoint: Endpoint, enabled: bool) -> None:
    """Enabling starts afresh: the flag, the reason and the failing streak
    are cleared, and the deliveries that waited are due. Disabling by staff
    keeps the flag (only enabling clears it) and gives the reason."""
    if enabled and not endpoint.enabled:
        endpoint.needs_attention = False
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        wake_senders()
    elif not enabled and endpoint.enabled:
        endpoint.disabled_reason = "disabled by staff"
    endpoint.enabled = enabled


def set_enabled(endpoint_id: int, enabled: bool) -> Endpoint:
    """Enable or disable an endpoint. Its deliveries wait while it is
    disabled and go out once it is enabled again."""
    return update_endpoint(endpoint_id, enabled=enabled)


@transaction.atomic
def delete_endpoint(endpoint_id: int) -> None:
    """Delete the endpoint with its secrets, deliveries and attempts (the
    messages stay for the other endpoints). Its deliveries are locked first:
    an attempt being recorded meanwhile commits before the delete collects
    its rows (and goes with them), or finds its delivery gone."""
    endpoint = get_endpoint(endpoint_id, for_update=True)
    list(Delivery.objects.select_for_update().filter(endpoint=endpoint).values_list("pk", flat=True))
    endpoint.delete()


@transaction.atomic
def rotate_secret(endpoint_id: int, overlap_seconds: float | None = None) -> EndpointSecret:
    """A new current secret; the previous ones keep signing beside it for
    ``overlap_seconds`` (``WEBHOOKS_SECRET_OVERLAP_SECONDS`` by default)."""
    return get_endpoint(endpoint_id, for_update=True).rotate_secret(overlap_seconds)


# --- messages ---------------------------------------------------------------------


@transaction.atomic
def send_test_event(endpoint_id: int) -> Message:
    """A ``webhook.test`` message to this endpoint only. Refused for a
    disabled endpoint: nothing would be sent until it is enabled, and a
    test is for now."""
    endpoint = get_endpoint(endpoint_id)
    if not endpoint.enabled:
        raise GameError(ErrorCode.BAD_REQUEST, f"endpoint {endpoint.pk} is disabled: enable it to send a test event")
    message = emit(EventType.WEBHOOK_TEST, {"endpoint": endpoint.pk, "note": TEST_NOTE}, endpoints=[endpoint])
    assert message is not None  # an endpoint was given: always written
    return message


@transaction.atomic
def resend(message_id: str, endpoint_ids: Iterable[int] | None = None) -> int:
    """Send a message again, due now, to the endpoints given or (none given)
    to every endpoint that had a delivery of it; the number of endpoints.
    An endpoint given must have had a delivery of it or want its type."""
    message = get_message(message_id)
    if endpoint_ids is None:
        endpoints = list(Endpoint.objects.filter(deliveries__message=message).distinct())
    else:
        endpoints = [get_endpoint(endpoint_id) for endpoint_id in endpoint_ids]
        _check_may_receive(message, endpoints)
    return schedule([message.pk], endpoints, timezone.now())


def _check_may_receive(message: Message, endpoints: list[Endpoint]) -> None:
    delivered = set(message.deliveries.values_list("endpoint_id", flat=True))
    for endpoint in endpoints:
        if endpoint.pk not in delivered and not endpoint.wants(message.type):
            raise GameError(ErrorCode.BAD_REQUEST, f"endpoint {endpoint.pk} does not receive {message.type} messages")


def resend_deliveries(delivery_ids: Iterable[int]) -> int:
    """Send each delivery's message to its endpoint again, due now."""
    scheduled = 0
    with transaction.atomic():
        for delivery in Delivery.objects.filter(pk__in=list(delivery_ids)).select_related("message", "endpoint"):
            scheduled += schedule([delivery.message_id], [delivery.endpoint], timezone.now())
    return scheduled


def replay_since(endpoint_id: int, since: datetime) -> int:
    """Send this endpoint again every stored message of a type it wants,
    created from ``since`` up to now, that it has not received (no
    succeeded delivery): after it was down. Test events are left out.
    Returns how many messages were scheduled. A batch per transaction,
    oldest first, so a long outage does not make one huge transaction."""
    endpoint = get_endpoint(endpoint_id)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    candidates = replayable(endpoint, since, timezone.now())
    scheduled = 0
    after: tuple[datetime, str] | None = None
    while batch := _next_batch(candidates, after):
        with transaction.atomic():
            schedule([message_id for _, message_id in batch], [endpoint], timezone.now())
        scheduled += len(batch)
        after = batch[-1]
    return scheduled


def replayable(endpoint: Endpoint, since: datetime, until: datetime) -> QuerySet[Message]:
    received = Delivery.objects.filter(message=OuterRef("pk"), endpoint=endpoint, status=Delivery.Status.SUCCEEDED)
    messages = Message.objects.filter(created_at__gte=since, created_at__lte=until).exclude(type=EventType.WEBHOOK_TEST)
    if endpoint.event_types:
        messages = messages.filter(type__in=endpoint.event_types)
    return messages.filter(~Exists(received))


def _next_batch(candidates: QuerySet[Message], after: tuple[datetime, str] | None) -> list[tuple[datetime, str]]:
    """The next :data:`REPLAY_BATCH` messages after ``after`` (created_at, id)."""
    if after is not None:
        candidates = candidates.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], id__gt=after[1]))
    return list(candidates.order_by("created_at", "id").values_list("created_at", "id")[:REPLAY_BATCH])
