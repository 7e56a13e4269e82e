"""The protocol's vocabularies are defined once, in code, and the README
documents exactly those: error codes with their HTTP statuses, match
statuses and event kinds."""

from __future__ import annotations

import re
from pathlib import Path

from games.engine.errors import ErrorCode
from games.engine.match import EventKind, Status
from games.models import Match, MatchEvent

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def error_table() -> dict[str, str]:
    """Each code in the README's error table with its status column."""
    start = README.index("| code | HTTP status | meaning |")
    rows = README[start:].split("\n\n", 1)[0].splitlines()[2:]
    documented = {}
    for row in rows:
        codes, status = row.split("|")[1:3]
        for code in re.findall(r"`([a-z_]+)`", codes):
            documented[code] = status.strip()
    return documented


def test_the_readme_error_table_lists_exactly_the_error_codes_with_their_statuses() -> None:
    documented = error_table()
    assert set(documented) == {code.value for code in ErrorCode}
    for code in ErrorCode:
        shown = documented[code.value]
        assert shown == "(socket)" or int(shown) == code.http_status, code


def test_models_store_the_engines_statuses_and_event_kinds() -> None:
    assert [value for value, _ in Match._meta.get_field("status").choices] == [s.value for s in Status]
    assert [value for value, _ in MatchEvent._meta.get_field("kind").choices] == [k.value for k in EventKind]
