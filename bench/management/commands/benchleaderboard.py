"""``python manage.py benchleaderboard``: a leaderboard read and a rank lookup
with many rated players; writes docs/leaderboard.md. See bench/leaderboard.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from bench import leaderboard


class Command(BaseCommand):
    help = "Time a leaderboard read (top 50) and a rank lookup (with neighbours) over many rated players."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--players", type=int, default=100_000)
        parser.add_argument("--repeat", type=int, default=200, help="timed calls of each")
        parser.add_argument("--out", default="docs")
        parser.add_argument(
            "--in-transaction",
            action="store_true",
            help="fill the configured database inside a transaction that is rolled back, instead of a scratch one",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        figures = leaderboard.run(options["players"], options["repeat"], options["in_transaction"])
        command = f"python manage.py benchleaderboard --players {options['players']} --repeat {options['repeat']}"
        if options["in_transaction"]:
            command += " --in-transaction"
        self.stdout.write(json.dumps(figures["figures"], indent=2))
        path = Path(options["out"]) / "leaderboard.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(leaderboard.report(figures, command))
        self.stdout.write(f"wrote {path}")
