"""The benchmark's profile report names frames by short paths, wherever the
project is checked out and whichever Python runs it."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from bench.management.commands.loadtest import _frame


def test_frames_are_named_relative_to_the_project_root_wherever_it_is(settings) -> None:
    settings.BASE_DIR = Path("/srv/checkout")
    assert _frame("act (/srv/checkout/games/services.py:120)") == "act (games/services.py)"
    assert (
        _frame("run (/srv/checkout/.venv/lib/python3.12/site-packages/daphne/server.py:9)") == "run (daphne/server.py)"
    )
    stdlib = sysconfig.get_paths()["stdlib"]
    assert _frame(f"select ({stdlib}/selectors.py:468)") == "select (selectors.py)"
