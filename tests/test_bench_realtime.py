"""The real-time benchmark (``manage.py benchrealtime --quick``) runs end to
end on the real PostgreSQL and Redis and gives figures of a sane shape:
every input applied reached every screen, the failover raised the epoch and
moved the match to the surviving process, and the section of
performance.md is written once and replaced by the next run. Timings are
not checked (they are the benchmark's job)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from bench import report
from bench.realtime_load import END, HEADING, START, markdown, parse_histogram, quantile, write_figures

pytestmark = pytest.mark.integration


def test_quantile_interpolates_inside_the_bucket_it_falls_in() -> None:
    text = "\n".join([
        'games_realtime_tick_lateness_seconds_bucket{le="0.001"} 50.0',
        'games_realtime_tick_lateness_seconds_bucket{le="0.005"} 90.0',
        'games_realtime_tick_lateness_seconds_bucket{le="0.01"} 100.0',
        'games_realtime_tick_lateness_seconds_bucket{le="+Inf"} 100.0',
        "games_realtime_tick_lateness_seconds_count 100.0",
    ])  # fmt: skip
    buckets = parse_histogram(text)
    assert quantile(buckets, 0.5) == pytest.approx(0.001)
    assert quantile(buckets, 0.7) == pytest.approx(0.003)
    assert quantile(buckets, 0.99) == pytest.approx(0.0095)


def test_quick_run_plays_fails_over_and_writes_its_section(tmp_path: Path) -> None:
    postgres = urlparse(os.environ["DATABASE_URL"])._replace(path="/postgres").geturl()
    page = tmp_path / "performance.md"
    page.write_text("# Performance\n\nThe load test's figures.\n")
    out = io.StringIO()
    call_command("benchrealtime", "--quick", "--out", str(tmp_path), "--postgres-url", postgres,
                 "--redis-url", os.environ["REDIS_URL"], stdout=out)  # fmt: skip
    results = json.loads((tmp_path / "realtime.json").read_text())

    (step,) = results["sweep"]["steps"]
    assert step["slots"] == 2 and step["lateness"]["ticks"] > 0 and step["server_cpu_s"] > 0
    # The same step with the loops in a worker: its lateness from the worker's metrics, its CPU apart.
    (beside,) = results["worker_sweep"]["steps"]
    assert beside["slots"] == 2 and beside["lateness"]["ticks"] > 0 and beside["worker_cpu_s"] > 0
    assert beside["inputs"]["reached_every_screen"] == beside["inputs"]["reached_some"] > 0
    assert set(results["figures"]["punctuality_by_loops"]) == {"web", "worker"}
    for row in (step, results["two_players"]):
        inputs = row["inputs"]
        assert inputs["sent"] > 0
        # Every input the server applied reached every one of its match's screens.
        assert inputs["reached_every_screen"] == inputs["reached_some"] > 0
        assert inputs["to_every_screen"]["p99_ms"] is not None and inputs["loopback"]["pings"] > 0
        assert row["bytes"]["by_type"]["tick"] > 0

    (run,) = results["failover"]["runs"]
    assert "failed" not in run, run
    assert run["epoch_after"] > run["epoch_before"]
    assert run["new_owner_pid"] != run["killed_pid"]
    assert run["screens_with_new_tick"] == run["screens"] == 3
    assert run["first_snapshot_s"] is not None

    assert {row["players"] for row in results["figures"]["bytes"]} == {2, 4}
    text = page.read_text()
    assert text.startswith("# Performance\n\nThe load test's figures.\n")
    assert text.count(HEADING) == text.count(START) == text.count(END) == 1
    assert markdown(results) in text

    # benchcosts rewrites its section from its heading to the end; a second run replaces the first's.
    report.write_costs({"after": {"database": "postgresql", "resync_1_missed_ms": 3.6}}, page)
    results["seconds"] = 12345.0
    write_figures(page, results)
    text = page.read_text()
    assert text.count(HEADING) == 1 and "(took 12345 s)" in text
    assert text.index(HEADING) < text.index(report.COSTS_HEADING)
