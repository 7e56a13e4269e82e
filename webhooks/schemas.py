"""The staff webhook API's request and response bodies, bounded like the
rest of the API's (see ``games.schemas``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, StrictBool, StrictInt, StrictStr, StringConstraints

from games.inputs import check_text
from games.schemas import StrictInput
from webhooks.events import SUBSCRIBABLE
from webhooks.staff import DESCRIPTION_MAX_LENGTH, ID_MAX, URL_MAX_LENGTH

MAX_OVERLAP_SECONDS = 30 * 24 * 3600  # a rotated secret signs beside the new one for at most 30 days
MAX_LISTED = 200  # the most attempts or messages one GET returns


def _storable(value: str) -> str:
    return check_text(value, "the text")


# Text as games.schemas.safe_text makes it (no NUL, no unpaired surrogate,
# bounded), spelled out so that mypy sees the types.
Url = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=URL_MAX_LENGTH),
    AfterValidator(_storable),
]
Description = Annotated[
    StrictStr, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX_LENGTH), AfterValidator(_storable)
]
EventTypeName = Annotated[StrictStr, StringConstraints(max_length=64), AfterValidator(_storable)]
MessageId = Annotated[StrictStr, StringConstraints(max_length=40), AfterValidator(_storable)]
EventTypes = Annotated[list[EventTypeName], Field(max_length=len(SUBSCRIBABLE))]
ObjectId = Annotated[StrictInt, Field(ge=1, le=ID_MAX)]


def _in_utc(value: datetime) -> datetime:
    """No offset means UTC; a time that does not exist in UTC (year 1 with
    a positive offset) is refused."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range in UTC") from None


Moment = Annotated[datetime, AfterValidator(_in_utc)]


class CreateEndpointIn(StrictInput):
    url: Url
    description: Description = ""
    event_types: EventTypes = Field(default_factory=list, description="empty: every type")
    enabled: StrictBool = True


class UpdateEndpointIn(StrictInput):
    """Only the fields sent change."""

    url: Url | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    enabled: StrictBool | None = None


class RotateSecretIn(StrictInput):
    overlap_seconds: Annotated[float, Field(ge=0, le=MAX_OVERLAP_SECONDS)] | None = Field(
        None, description="how long the previous secrets keep signing; default WEBHOOKS_SECRET_OVERLAP_SECONDS"
    )


class ReplayIn(StrictInput):
    since: Moment = Field(description="ISO 8601; no offset means UTC")


class ResendIn(StrictInput):
    endpoints: Annotated[list[ObjectId], Field(min_length=1, max_length=100)] | None = Field(
        None, description="default: every endpoint that had a delivery of the message"
    )


class AttemptsIn(Schema):
    limit: int = Field(50, ge=1, le=MAX_LISTED)
    succeeded: bool | None = None
    status_code: int | None = Field(None, ge=100, le=599)
    message: MessageId | None = None
    since: Moment | None = None


class MessagesIn(Schema):
    limit: int = Field(50, ge=1, le=MAX_LISTED)
    type: EventTypeName | None = None
    endpoint: int | None = Field(None, ge=1, le=ID_MAX)
    since: Moment | None = None


class SecretOut(Schema):
    secret: str
    created_at: str
    expires_at: str | None = Field(description="null: the current secret")


class DeliveryCountsOut(Schema):
    pending: int
    succeeded: int
    failed: int


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str
    needs_attention: bool
    failing_since: str | None
    created_at: str
    updated_at: str
    secrets: list[SecretOut] = Field(description="the secrets that sign now, the current one first")
    deliveries: DeliveryCountsOut


class EndpointsOut(Schema):
    endpoints: list[EndpointOut]


class AttemptOut(Schema):
    id: int
    message: str
    type: str
    at: str
    succeeded: bool
    status_code: int | None
    response_excerpt: str
    duration_ms: int
    error: str


class AttemptsOut(Schema):
    attempts: list[AttemptOut]


class DeliveryOut(Schema):
    endpoint: int
    status: str
    attempts: int
    next_attempt_at: str | None
    finished_at: str | None


class MessageOut(Schema):
    id: str = Field(description="the webhook-id header")
    type: str
    created_at: str
    payload: dict[str, Any] = Field(description="the body sent: {type, timestamp, data}")
    deliveries: list[DeliveryOut]


class MessagesOut(Schema):
    messages: list[MessageOut]


class ScheduledOut(Schema):
    scheduled: int = Field(description="messages (replay) or endpoints (resend) now due")
