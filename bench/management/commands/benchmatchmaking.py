"""``python manage.py benchmatchmaking``: quick play simulated (see
``bench/matchmaking_sim.py``): a thousand players paired by the server's own
pairing function at several arrival rates, with pairing at once (the
server's default) and in waves only. Prints the figures and writes them to
``<out>/matchmaking.json`` and into ``<out>/matchmaking.md`` (between its
figure markers). Takes about a second: the clock is simulated."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from bench.matchmaking_sim import SimConfig, SimReport, as_dict, simulate

START, END = "<!-- figures: benchmatchmaking writes between these markers -->", "<!-- end of figures -->"


def number(value: float | None, digits: int = 1) -> str:
    return "none" if value is None else f"{value:,.{digits}f}"


def table(reports: list[SimReport], crowded: int) -> str:
    """The figures as a Markdown table, one row per run."""
    lines = [
        f"| pairing | arrivals/s | largest pool | wait median / p95 (s) | rating difference median / p95 "
        f"| pairs with ≥{crowded} waiting | their wait median / p95 (s) | their difference median / p95 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for report in reports:
        config, overall, busy = report.config, report.overall, report.crowded
        lines.append(
            f"| {'at once + waves' if config['pair_at_once'] else 'waves only'} | {config['arrival_rate']:g} "
            f"| {report.largest_pool} | {number(overall.wait_median)} / {number(overall.wait_p95)} "
            f"| {number(overall.difference_median, 0)} / {number(overall.difference_p95, 0)} | {busy.pairs} "
            f"| {number(busy.wait_median)} / {number(busy.wait_p95)} "
            f"| {number(busy.difference_median, 0)} / {number(busy.difference_p95, 0)} |"
        )
    return "\n".join(lines)


def write_figures(path: Path, text: str) -> None:
    """Put ``text`` between the figure markers of ``path`` (made if missing)."""
    block = f"{START}\n\n{text}\n\n{END}"
    old = path.read_text() if path.exists() else ""
    if START in old and END in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = f"{old}\n{block}\n" if old else f"{block}\n"
    path.write_text(new)


class Command(BaseCommand):
    help = "Simulate quick play: waits and rating differences of the pairs (no server needed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--players", type=int, default=1000)
        parser.add_argument("--rates", default="1,5,10,25,50", help="arrivals per second, comma-separated")
        parser.add_argument("--pools", type=int, default=1)
        parser.add_argument("--wave-seconds", type=float, default=2.0)
        parser.add_argument("--return-probability", type=float, default=0.0)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", default="docs", help="where matchmaking.json and matchmaking.md go")

    def handle(self, *args: Any, **options: Any) -> None:
        base = SimConfig(
            players=options["players"],
            pools=options["pools"],
            wave_seconds=options["wave_seconds"],
            return_probability=options["return_probability"],
            seed=options["seed"],
        )
        reports = [
            simulate(replace(base, arrival_rate=float(rate), pair_at_once=at_once))
            for at_once in (True, False)
            for rate in options["rates"].split(",")
        ]
        text = table(reports, base.crowded)
        self.stdout.write(text)
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        (out / "matchmaking.json").write_text(json.dumps([as_dict(r) for r in reports], indent=2) + "\n")
        write_figures(out / "matchmaking.md", text)
        self.stdout.write(f"wrote {out / 'matchmaking.json'} and the figures in {out / 'matchmaking.md'}")
