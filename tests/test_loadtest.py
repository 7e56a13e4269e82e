"""A smoke run of the load benchmark (a few seconds, a tiny load), so the
tool cannot rot. It measures nothing here: it checks the tool starts every
server it compares, drives them, and writes its report."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from django.core.management import call_command

from bench.driver import socket_mode


def test_loadtest_quick_run_writes_its_report(tmp_path: Path) -> None:
    production = bool(os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL"))
    layer, database = ("redis", "postgres") if production else ("memory", "sqlite")
    out = io.StringIO()
    call_command("loadtest", "--quick", "--out", str(tmp_path), "--layer", layer, "--database", database, stdout=out)
    results = json.loads((tmp_path / "performance.json").read_text())
    names = [row["name"] for row in results["saturated"]]
    assert names[:3] == [
        "websockets baseline (no validation, no database)",
        f"Channels relay baseline ({layer} layer)",
        "the project, 1 process",
    ]
    assert all(row["moves"] > 0 and row["incomplete"] == 0 for row in results["saturated"])
    assert results["latency_by_rate"][0]["moves"] > 0 and results["latency_by_rate"][0]["incomplete"] == 0
    assert results["connections"]["held"] == results["connections"]["requested"] == 20
    for game in ("polling", "polling_chess"):
        compact, whole = results[game][socket_mode(2)], results[game][socket_mode(1)]
        assert compact["deliveries"] == whole["deliveries"] > 0
        assert compact["bytes_per_delivered_move"] < whole["bytes_per_delivered_move"]
    assert (tmp_path / "performance.png").stat().st_size > 10_000
    page = (tmp_path / "performance.md").read_text()
    assert "## Saturated throughput" in page and "| the project, 1 process |" in page
    assert "wrote" in out.getvalue()
