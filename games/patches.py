"""What changed between two JSON documents, as a short list of operations:
the ``patch`` of protocol 2's event frames (README, "Protocol 2").

An operation is ``[pointer, value]`` (set the value at the RFC 6901 JSON
Pointer, creating the key; a pointer ending in ``/-`` appends to an array) or
``[pointer]`` (remove the key). Objects are compared key by key, arrays of
equal length element by element, and an array that only grew gets appends,
so a move in a long game costs what the move changed, not the whole history.
Any other change to an array replaces it whole.
"""

from __future__ import annotations

from typing import Any

Op = list[Any]


def diff(before: Any, after: Any, path: str = "") -> list[Op]:
    """The operations that turn ``before`` into ``after`` (``[]`` when equal)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return _diff_objects(before, after, path)
    if isinstance(before, list) and isinstance(after, list) and len(after) >= len(before):
        ops: list[Op] = []
        for index, (old, new) in enumerate(zip(before, after, strict=False)):
            ops += diff(old, new, f"{path}/{index}")
        ops += [[f"{path}/-", item] for item in after[len(before) :]]
        return ops
    if type(before) is type(after) and before == after:  # not 1 == True: JSON tells them apart
        return []
    return [[path, after]]


def _diff_objects(before: dict[str, Any], after: dict[str, Any], path: str) -> list[Op]:
    ops: list[Op] = [[f"{path}/{_escape(key)}"] for key in before if key not in after]
    for key, new in after.items():
        where = f"{path}/{_escape(key)}"
        ops += diff(before[key], new, where) if key in before else [[where, new]]
    return ops


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def apply(document: Any, ops: list[Op]) -> Any:
    """``document`` with ``ops`` applied (in place where it can be); what a
    client does with a patch, here for the tests and for Python bots."""
    for op in ops:
        pointer = op[0]
        if pointer == "":
            document = op[1]
            continue
        *parents, last = [_unescape(token) for token in pointer.split("/")[1:]]
        target = document
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        if len(op) == 1:
            del target[int(last) if isinstance(target, list) else last]
        elif isinstance(target, list):
            if last == "-":
                target.append(op[1])
            else:
                target[int(last)] = op[1]
        else:
            target[last] = op[1]
    return document


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")
