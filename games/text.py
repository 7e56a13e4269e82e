"""Text a database can store. PostgreSQL refuses NUL characters in text (and
"\\u0000" in jsonb) and psycopg cannot encode a lone surrogate to UTF-8, so
either one reaching an INSERT or a WHERE clause is a server error. Input is
refused before that (:func:`storable_problem`, used by the HTTP schemas);
what must be kept whatever it holds (webhook deliveries) is made storable
with :func:`storable`."""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"


def storable_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as it is, or None when it can."""
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must not contain unpaired surrogates"
    return None


def json_storable_problem(value: Any) -> str | None:
    """The first string (key or value) anywhere in a decoded JSON value that
    cannot be stored, as a problem; iterative, so any depth is fine."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and (problem := storable_problem(item)):
            return f"text in it {problem}"
    return None


def storable(text: str) -> str:
    """``text`` with every NUL and lone surrogate replaced by U+FFFD."""
    if storable_problem(text) is None:
        return text
    return "".join(REPLACEMENT if char == "\x00" or "\ud800" <= char <= "\udfff" else char for char in text)
