"""The staff-only endpoints of the outgoing webhooks, a django-ninja router
mounted on the project's one ``NinjaAPI`` (see ``webhooks.apps``): manage
endpoints and their secrets, send test events, read the attempt log,
resend and replay. The work is in :mod:`webhooks.staff`, shared with the
admin; this module parses, checks the caller is staff and shapes answers.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from games.api import AS_PLAYER, WITH_BODY, answers
from games.api_auth import PLAYER_AUTH
from games.engine.clocks import format_time
from games.engine.errors import ErrorCode, GameError
from webhooks import staff
from webhooks.models import Attempt, Delivery, Endpoint, Message
from webhooks.schemas import (
    AttemptsIn,
    AttemptsOut,
    CreateEndpointIn,
    EndpointOut,
    EndpointsOut,
    MessageOut,
    MessagesIn,
    MessagesOut,
    ReplayIn,
    ResendIn,
    RotateSecretIn,
    ScheduledOut,
    UpdateEndpointIn,
)

router = Router(tags=["webhooks"])
T = TypeVar("T")


def _require_staff(request: HttpRequest) -> None:
    player = request.auth  # type: ignore[attr-defined]
    if player.user is None or not player.user.is_staff:
        raise GameError(ErrorCode.FORBIDDEN, "only staff may manage webhooks (see manage.py apitoken)")


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment else None


def _endpoints() -> QuerySet[Endpoint]:
    """Endpoints ready for :func:`endpoint_view`: deliveries counted, secrets fetched."""
    return staff.with_counts(Endpoint.objects.order_by("pk")).prefetch_related("secrets")


def _endpoint(endpoint_id: int) -> dict[str, Any]:
    staff.get_endpoint(endpoint_id)  # 404 not_found for an unknown id
    return endpoint_view(_endpoints().get(pk=endpoint_id))


def endpoint_view(endpoint: Endpoint) -> dict[str, Any]:
    """An endpoint (from :func:`_endpoints`) as staff see it, with the secrets that sign now."""
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "needs_attention": endpoint.needs_attention,
        "failing_since": _time(endpoint.failing_since),
        "created_at": format_time(endpoint.created_at),
        "updated_at": format_time(endpoint.updated_at),
        "secrets": [
            {
                "secret": secret.secret,
                "created_at": format_time(secret.created_at),
                "expires_at": _time(secret.expires_at),
            }
            for secret in staff.live_secrets(endpoint)
        ],
        "deliveries": {status: getattr(endpoint, status) for status in Delivery.Status.values},
    }


def message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "type": message.type,
        "created_at": format_time(message.created_at),
        "payload": json.loads(message.body),
        "deliveries": [
            {
                "endpoint": delivery.endpoint_id,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "next_attempt_at": _time(delivery.next_attempt_at)
                if delivery.status == Delivery.Status.PENDING
                else None,
                "finished_at": _time(delivery.finished_at),
            }
            for delivery in message.deliveries.all()
        ],
    }


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    return {
        "id": attempt.pk,
        "message": attempt.message_id,
        "type": attempt.message.type,
        "at": format_time(attempt.at),
        "succeeded": attempt.succeeded,
        "status_code": attempt.status_code,
        "response_excerpt": attempt.response_excerpt,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
    }


# --- endpoints ------------------------------------------------------------------


@router.get("/webhooks/endpoints", response=answers({200: EndpointsOut}, *AS_PLAYER), auth=PLAYER_AUTH)
def list_endpoints(request: HttpRequest) -> dict[str, Any]:
    _require_staff(request)
    return {"endpoints": [endpoint_view(endpoint) for endpoint in _endpoints()]}


@router.post("/webhooks/endpoints", response=answers({201: EndpointOut}, *WITH_BODY, *AS_PLAYER), auth=PLAYER_AUTH)
def create_endpoint(request: HttpRequest, body: CreateEndpointIn) -> Status:
    """A new endpoint with a generated secret, shown in the answer."""
    _require_staff(request)
    created = staff.create_endpoint(body.url, body.description, body.event_types, body.enabled)
    return Status(201, _endpoint(created.pk))


@router.get(
    "/webhooks/endpoints/{endpoint_id}", response=answers({200: EndpointOut}, *AS_PLAYER, 404), auth=PLAYER_AUTH
)
def get_endpoint(request: HttpRequest, endpoint_id: int) -> dict[str, Any]:
    _require_staff(request)
    return _endpoint(endpoint_id)


@router.patch(
    "/webhooks/endpoints/{endpoint_id}",
    response=answers({200: EndpointOut}, *WITH_BODY, *AS_PLAYER, 404),
    auth=PLAYER_AUTH,
)
def update_endpoint(request: HttpRequest, endpoint_id: int, body: UpdateEndpointIn) -> dict[str, Any]:
    """Change the fields sent; ``"enabled": true`` also clears the flag and
    reason of an endpoint that was disabled."""
    _require_staff(request)
    updated = staff.update_endpoint(endpoint_id, **body.model_dump(exclude_unset=True))
    return _endpoint(updated.pk)


@router.delete("/webhooks/endpoints/{endpoint_id}", response=answers({204: None}, *AS_PLAYER, 404), auth=PLAYER_AUTH)
def delete_endpoint(request: HttpRequest, endpoint_id: int) -> Status:
    _require_staff(request)
    staff.delete_endpoint(endpoint_id)
    return Status(204, None)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/rotate-secret",
    response=answers({200: EndpointOut}, *WITH_BODY, *AS_PLAYER, 404),
    auth=PLAYER_AUTH,
)
def rotate_secret(request: HttpRequest, endpoint_id: int, body: RotateSecretIn | None = None) -> dict[str, Any]:
    """A new current secret; the previous ones keep signing for the overlap."""
    _require_staff(request)
    staff.rotate_secret(endpoint_id, body.overlap_seconds if body else None)
    return _endpoint(endpoint_id)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/test",
    response=answers({201: MessageOut}, *AS_PLAYER, 400, 404),
    auth=PLAYER_AUTH,
)
def send_test_event(request: HttpRequest, endpoint_id: int) -> Status:
    _require_staff(request)
    return Status(201, message_view(staff.send_test_event(endpoint_id)))


@router.post(
    "/webhooks/endpoints/{endpoint_id}/replay",
    response=answers({200: ScheduledOut}, *WITH_BODY, *AS_PLAYER, 404),
    auth=PLAYER_AUTH,
)
def replay(request: HttpRequest, endpoint_id: int, body: ReplayIn) -> dict[str, int]:
    """Send again every message since ``since`` that the endpoint wants and has not received."""
    _require_staff(request)
    return {"scheduled": staff.replay_since(endpoint_id, body.since)}


@router.get(
    "/webhooks/endpoints/{endpoint_id}/attempts",
    response=answers({200: AttemptsOut}, 400, *AS_PLAYER, 404),
    auth=PLAYER_AUTH,
)
def list_attempts(request: HttpRequest, endpoint_id: int, query: Query[AttemptsIn]) -> dict[str, Any]:
    """The endpoint's attempts, newest first, at most ``limit``."""
    _require_staff(request)
    attempts = (
        Attempt.objects.filter(endpoint=staff.get_endpoint(endpoint_id))
        .select_related("message")
        .defer("message__body")
    )
    if query.succeeded is not None:
        attempts = attempts.filter(succeeded=query.succeeded)
    if query.status_code is not None:
        attempts = attempts.filter(status_code=query.status_code)
    if query.message is not None:
        attempts = attempts.filter(message_id=query.message)
    if query.since is not None:
        attempts = attempts.filter(at__gte=query.since)
    return {"attempts": [attempt_view(attempt) for attempt in attempts.order_by("-at", "-pk")[: query.limit]]}


# --- messages ---------------------------------------------------------------------


@router.get("/webhooks/messages", response=answers({200: MessagesOut}, 400, *AS_PLAYER), auth=PLAYER_AUTH)
def list_messages(request: HttpRequest, query: Query[MessagesIn]) -> dict[str, Any]:
    """Stored messages, newest first, at most ``limit``, with their deliveries."""
    _require_staff(request)
    messages = Message.objects.prefetch_related("deliveries")
    if query.type is not None:
        messages = messages.filter(type=query.type)
    if query.endpoint is not None:
        messages = messages.filter(deliveries__endpoint_id=query.endpoint)
    if query.since is not None:
        messages = messages.filter(created_at__gte=query.since)
    return {"messages": [message_view(message) for message in messages.order_by("-created_at", "-id")[: query.limit]]}


@router.post(
    "/webhooks/messages/{message_id}/resend",
    response=answers({200: ScheduledOut}, *WITH_BODY, *AS_PLAYER, 404),
    auth=PLAYER_AUTH,
)
def resend(request: HttpRequest, message_id: str, body: ResendIn | None = None) -> dict[str, int]:
    """Send the message again, due now: to ``endpoints``, or to every endpoint that had a delivery of it."""
    _require_staff(request)
    endpoints = body.endpoints if body else None
    return {"scheduled": staff.resend(message_id, endpoints)}
