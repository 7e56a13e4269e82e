"""What a client sends on ``/ws/queue/``, parsed at the edge into typed
messages with pydantic, as ``games.messages`` parses the match socket's."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StrictInt, StrictStr, TypeAdapter, ValidationError

from games.messages import BadMessage, ClientMessage
from matchmaking.services import MAX_BOT_AFTER


class SeekIn(ClientMessage):
    """Ask for a match of ``game`` with ``options`` (a clock, ``rated``...);
    ``bot_after``: seconds after which a computer opponent will do."""

    type: Literal["seek"]
    game: Annotated[StrictStr, Field(max_length=32)]
    options: dict[str, Any] = Field(default_factory=dict)
    bot_after: Annotated[StrictInt, Field(ge=1, le=MAX_BOT_AFTER)] | None = None


class CancelIn(ClientMessage):
    """Withdraw the seek this socket holds, or the player's seek ``seek``."""

    type: Literal["cancel"]
    seek: Annotated[StrictInt, Field(ge=1)] | None = None


QueueMessage = SeekIn | CancelIn
MESSAGE_TYPES: tuple[str, ...] = tuple(
    kind for model in (SeekIn, CancelIn) for kind in get_args(model.model_fields["type"].annotation)
)
_adapter: TypeAdapter = TypeAdapter(Annotated[QueueMessage, Field(discriminator="type")])


def parse_queue_message(raw: Any) -> QueueMessage:
    """Validate one decoded JSON message, or raise :class:`BadMessage` saying what is wrong."""
    if not isinstance(raw, dict):
        raise BadMessage('a message is a JSON object with a "type"')
    ref = raw.get("ref") if isinstance(raw.get("ref"), (str, int)) else None
    kind = raw.get("type")
    if kind not in MESSAGE_TYPES:
        raise BadMessage(f"unknown message type {kind!r}; expected one of {', '.join(MESSAGE_TYPES)}", ref)
    try:
        parsed: QueueMessage = _adapter.validate_python(raw)
    except ValidationError as invalid:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'][1:]) or 'message'}: {error['msg']}"
            for error in invalid.errors()
        )
        raise BadMessage(f"invalid {kind} message: {problems}", ref) from None
    return parsed
