"""What a client sends on ``/ws/queue/``, parsed at the edge into typed
messages with pydantic, as ``games.messages`` parses the match socket's."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt, StrictStr

from games.messages import ClientMessage, MessageParser
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
parse_queue_message = MessageParser(SeekIn, CancelIn)
