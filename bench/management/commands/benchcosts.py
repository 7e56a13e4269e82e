"""``python manage.py benchcosts``: server CPU per resync and per replay of a
300-ply chess match; writes docs/performance-costs.json and its section of
docs/performance.md. See README, Performance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from bench import report
from bench.costs import measure


class Command(BaseCommand):
    help = "Measure the CPU cost of a resync and of a replay on a 300-ply chess match."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--repeat", type=int, default=50)
        parser.add_argument("--out", default="docs")
        parser.add_argument("--label", default="after", help="'before' or 'after': which column the run fills")

    def handle(self, *args: Any, **options: Any) -> None:
        figures = measure(options["repeat"])
        self.stdout.write(json.dumps(figures, indent=2))
        Path(options["out"]).mkdir(parents=True, exist_ok=True)
        path = Path(options["out"]) / "performance-costs.json"
        runs = json.loads(path.read_text()) if path.exists() else {}
        runs[options["label"]] = figures
        path.write_text(json.dumps(runs, indent=2) + "\n")
        report.write_costs(runs, Path(options["out"]) / "performance.md")
        self.stdout.write(f"wrote {path} and the costs section of performance.md")
