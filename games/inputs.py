"""What any text or JSON from outside must satisfy before it reaches the
database or another player: no NUL characters or unpaired surrogates
(PostgreSQL refuses both, in text and in jsonb, and a surrogate cannot even be
encoded as UTF-8), and JSON nested no deeper than a game could need.

Checked at the edges (WebSocket messages, HTTP bodies), so a bad value is a
clear ``bad_message`` / ``bad_request`` instead of an exception half-way
through a transaction.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnsafeInput(ValueError):
    """A value that must not be stored or relayed; the message says why."""


def check_text(value: str, where: str = "text") -> str:
    """``value`` unchanged, or :class:`UnsafeInput` if it cannot be stored."""
    found = _UNSTORABLE.search(value)
    if found is not None:
        what = "a NUL character" if found.group() == "\x00" else "an unpaired surrogate"
        raise UnsafeInput(f"{where} contains {what}")
    return value


def check_json(value: Any, where: str = "message", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``value`` unchanged if every string in it (keys too) is storable and it
    nests at most ``max_depth`` levels; else :class:`UnsafeInput`. Iterative,
    so no input can exhaust the stack."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            check_text(item, where)
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                raise UnsafeInput(f"{where} is nested deeper than {max_depth} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return value


def loads(text: str, where: str = "message") -> Any:
    """Decode JSON text that came from outside; any problem, a nesting deep
    enough to exhaust the decoder's recursion included, is :class:`UnsafeInput`."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UnsafeInput(f"{where} is nested too deeply") from None
    except ValueError:
        raise UnsafeInput(f"{where} is not valid JSON") from None
    return check_json(value, where)
