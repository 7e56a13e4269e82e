"""Client-to-server WebSocket messages, parsed at the edge into typed
messages with pydantic (the same library django-ninja validates HTTP bodies
with). Names end in ``In``: what comes in from a client."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, ValidationError

JsonRef = str | int | None


class ClientMessage(BaseModel):
    """Every client message may carry a ``ref``, echoed in what answers it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    ref: JsonRef = None


class MoveIn(ClientMessage):
    type: Literal["move"]
    move: dict[str, Any]
    seq: Annotated[StrictInt, Field(ge=0)] | None = None


class ResyncIn(ClientMessage):
    type: Literal["resync"]
    after: Annotated[StrictInt, Field(ge=0)]


class ActionIn(ClientMessage):
    """An action with no payload: resign, offer or accept a draw, ask for a rematch."""

    type: Literal["resign", "offer_draw", "accept_draw", "rematch"]


class ChatIn(ClientMessage):
    type: Literal["chat"]
    text: StrictStr


AnyMessage = MoveIn | ResyncIn | ActionIn | ChatIn
MESSAGE_TYPES: tuple[str, ...] = tuple(
    kind for model in (MoveIn, ActionIn, ChatIn, ResyncIn) for kind in get_args(model.model_fields["type"].annotation)
)
_adapter: TypeAdapter = TypeAdapter(Annotated[AnyMessage, Field(discriminator="type")])


class BadMessage(Exception):
    def __init__(self, message: str, ref: JsonRef = None) -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref


def parse_client_message(raw: Any) -> AnyMessage:
    """Validate one decoded JSON message, or raise :class:`BadMessage` saying what is wrong."""
    if not isinstance(raw, dict):
        raise BadMessage('a message is a JSON object with a "type"')
    ref = raw.get("ref") if isinstance(raw.get("ref"), (str, int)) else None
    kind = raw.get("type")
    if kind not in MESSAGE_TYPES:
        raise BadMessage(f"unknown message type {kind!r}; expected one of {', '.join(MESSAGE_TYPES)}", ref)
    try:
        return _adapter.validate_python(raw)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'message'}: {error['msg']}"
            for error in invalid.errors()
        )
        raise BadMessage(f"invalid {kind} message: {problems}", ref) from None


PROTOCOLS = (1, 2)


def protocol_of(query_string: bytes) -> int:
    """The protocol a match socket asked for with ``?protocol=N``: 2 (events
    carry a patch) or 1 (events carry the whole match), the default and the
    answer to anything else, so an old server answers a newer client with
    what it speaks. The snapshot says which was chosen."""
    asked = parse_qs(query_string.decode("latin1")).get("protocol", [""])[-1]
    return int(asked) if asked in {str(version) for version in PROTOCOLS} else 1
