"""Client-to-server WebSocket messages, parsed at the edge into typed
messages with pydantic (the same library django-ninja validates HTTP bodies
with). Names end in ``In``: what comes in from a client."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union, get_args
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


class InputIn(ClientMessage):
    """A real-time game's input (the game's ``Move``), applied at the next
    tick; ``tick``, the last tick the client saw, is informational only (the
    server is the clock). No seat: it is the socket's player's."""

    type: Literal["input"]
    input: dict[str, Any]
    tick: Annotated[StrictInt, Field(ge=0)] | None = None


class ResyncIn(ClientMessage):
    """Events after ``after``; without it (real-time matches), a snapshot."""

    type: Literal["resync"]
    after: Annotated[StrictInt, Field(ge=0)] | None = None


class ActionIn(ClientMessage):
    """An action with no payload: resign, offer or accept a draw, ask for a rematch."""

    type: Literal["resign", "offer_draw", "accept_draw", "rematch"]


class ChatIn(ClientMessage):
    type: Literal["chat"]
    text: StrictStr


class BadMessage(Exception):
    def __init__(self, message: str, ref: JsonRef = None) -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref


class MessageParser:
    """Parses a socket's decoded JSON into one of its typed messages (a
    union discriminated by ``type``), or raises :class:`BadMessage` saying
    what is wrong: the unknown type, or each invalid field. Every socket
    (the match's here, other apps' too) parses its messages with one."""

    def __init__(self, *models: type[ClientMessage]) -> None:
        self.types: tuple[str, ...] = tuple(
            kind for model in models for kind in get_args(model.model_fields["type"].annotation)
        )
        union: Any = Union[models]  # noqa: UP007 (built from a tuple; one model stays itself)
        shape: Any = union if len(models) == 1 else Annotated[union, Field(discriminator="type")]
        self.adapter: TypeAdapter = TypeAdapter(shape)

    def __call__(self, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise BadMessage('a message is a JSON object with a "type"')
        ref = raw.get("ref") if isinstance(raw.get("ref"), (str, int)) else None
        kind = raw.get("type")
        if kind not in self.types:
            raise BadMessage(f"unknown message type {kind!r}; expected one of {', '.join(self.types)}", ref)
        try:
            return self.adapter.validate_python(raw)
        except ValidationError as invalid:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'][1:]) or 'message'}: {error['msg']}"
                for error in invalid.errors()
            )
            raise BadMessage(f"invalid {kind} message: {problems}", ref) from None


AnyMessage = MoveIn | InputIn | ResyncIn | ActionIn | ChatIn
_match_messages = MessageParser(MoveIn, InputIn, ActionIn, ChatIn, ResyncIn)
MESSAGE_TYPES = _match_messages.types


def parse_client_message(raw: Any) -> AnyMessage:
    """The match socket's message, or :class:`BadMessage`."""
    parsed: AnyMessage = _match_messages(raw)
    return parsed


PROTOCOLS = (1, 2)


def protocol_of(query_string: bytes) -> int:
    """The protocol a match socket asked for with ``?protocol=N``: 2 (events
    carry a patch) or 1 (events carry the whole match), the default and the
    answer to anything else, so an old server answers a newer client with
    what it speaks. The snapshot says which was chosen."""
    asked = parse_qs(query_string.decode("latin1")).get("protocol", [""])[-1]
    return int(asked) if asked in {str(version) for version in PROTOCOLS} else 1
