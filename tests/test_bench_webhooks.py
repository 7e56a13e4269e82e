"""The webhooks benchmark's own parts (``manage.py benchwebhooks`` itself
takes minutes and is not run here): the receiver program records what the
figures are computed from, and the figures' section of performance.md
survives the other commands that write that page."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import report
from bench.webhooks_load import (
    CONDITIONS,
    END,
    HEADING,
    START,
    Options,
    combine,
    markdown,
    schedule,
    with_ratios,
    write_figures,
)
from webhooks.models import new_secret
from webhooks.outbox import body_of, new_message_id
from webhooks.signing import signature_headers

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def receiver(out: Path, *args: str, secret: str = "") -> Iterator[tuple[str, subprocess.Popen]]:
    """``bench/webhook_receiver.py`` as the benchmark runs it; yields its URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "WEBHOOK_SECRET": secret}
    command = [sys.executable, "-m", "bench.webhook_receiver", "--port", "0", "--out", str(out), *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:"), first
        yield first.removeprefix("listening on ") + "/hook", process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def signed(event_type: str, secrets: list[str]) -> tuple[str, str, bytes, dict[str, str]]:
    """A message as the sender posts it: its id, timestamp, body and headers."""
    now = datetime.now(UTC)
    message_id = new_message_id(now.timestamp())
    body = body_of(event_type, now, {"id": 7})
    return message_id, json.loads(body)["timestamp"], body.encode(), signature_headers(message_id, now, body, secrets)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_receiver_records_each_request_and_verifies_its_signature(tmp_path: Path) -> None:
    secret, other = new_secret(), new_secret()
    out = tmp_path / "arrivals.jsonl"
    with receiver(out, "--mode", "ok", secret=secret) as (url, _):
        good_id, good_timestamp, body, headers = signed("match.started", [secret])
        before = time.time()
        assert httpx.post(url, content=body, headers=headers).status_code == 200
        after = time.time()
        forged_id, _, forged_body, forged_headers = signed("match.finished", [other])
        assert httpx.post(url, content=forged_body, headers=forged_headers).status_code == 200
    good, forged = lines(out)
    assert (good["webhook_id"], good["type"], good["timestamp"]) == (good_id, "match.started", good_timestamp)
    assert good["verified"] is True and forged["verified"] is False
    assert (forged["webhook_id"], forged["type"]) == (forged_id, "match.finished")
    event_at = datetime.fromisoformat(good_timestamp.replace("Z", "+00:00")).timestamp()
    assert good["event_at"] == event_at
    assert before - 1 < event_at <= before
    assert before <= good["arrived"] <= good["answered"] <= after


def test_slow_receiver_answers_late_and_still_records_requests_it_never_answered(tmp_path: Path) -> None:
    out = tmp_path / "arrivals.jsonl"
    with receiver(out, "--mode", "slow", "--delay", "1.5") as (url, _):
        message_id, _, body, headers = signed("match.started", [new_secret()])
        begun = time.monotonic()
        assert httpx.post(url, content=body, headers=headers, timeout=10).status_code == 200
        assert time.monotonic() - begun >= 1.5
        cut_id, _, cut_body, cut_headers = signed("match.finished", [new_secret()])
        outcome: list[BaseException] = []

        def post_unanswered() -> None:
            try:
                httpx.post(url, content=cut_body, headers=cut_headers, timeout=10)
            except httpx.HTTPError as problem:
                outcome.append(problem)

        waiting = threading.Thread(target=post_unanswered, daemon=True)
        waiting.start()
        time.sleep(0.5)  # the second request has arrived and waits for its answer when the receiver stops
    waiting.join(timeout=10)
    assert outcome and isinstance(outcome[0], httpx.RemoteProtocolError)  # stopped: no answer
    answered, cut = lines(out)
    assert answered["webhook_id"] == message_id and answered["answered"] - answered["arrived"] >= 1.5
    assert answered["verified"] is None  # no secret given to the receiver
    assert cut["webhook_id"] == cut_id and cut["type"] == "match.finished" and cut["answered"] is None


def results(move_latency: float) -> dict[str, Any]:
    """A run's results as ``bench.webhooks_load.run`` makes them: the baseline
    (every move 40 ms) and a healthy endpoint (every move ``move_latency`` s)."""

    def sample(latency: float, endpoint: bool) -> dict[str, Any]:
        moves = {"moves_per_s": 25.0, "moves": 250, "incomplete": 0, "p50_ms": latency * 1000, "p99_ms": latency * 1000}
        churned = {"matches": 50, "started": 50, "finished": 50, "errors": [], "latencies": [0.02] * 350}
        found = {"moves": moves, "move_latencies": [latency] * 250, "churn": churned, "server_cpu_s": 9.0,
                 "sender_cpu_s": 1.0, "other_cpu_s": 0.0, "records": []}  # fmt: skip
        if endpoint:
            found["deliveries"] = {"written": 100, "succeeded": 100, "pending": 0, "failed": 0, "attempts": 100,
                                   "timings": [(0.03, 0.01)] * 100}  # fmt: skip
        return found

    baseline, healthy = CONDITIONS[0], CONDITIONS[1]
    rows = [combine(baseline, [sample(0.04, False)] * 2), combine(healthy, [sample(move_latency, True)] * 2)]
    return {
        "command": "python manage.py benchwebhooks",
        "seconds": 150.0,
        "machine": report.machine(),
        "options": asdict(Options()),
        "order": [condition.name for condition in schedule(2)],
        "conditions": with_ratios(rows),
    }


def test_the_figures_keep_one_section_of_performance_md_through_benchcosts(tmp_path: Path) -> None:
    page = tmp_path / "performance.md"
    page.write_text("# Performance\n\nThe load test's figures.\n")
    costs = {"after": {"database": "postgresql", "resync_1_missed_ms": 3.6}}
    report.write_costs(costs, page)
    write_figures(page, results(0.06))
    report.write_costs(costs, page)  # benchcosts rewrites its section, from its heading to the end
    assert markdown(results(0.06)) in page.read_text()
    write_figures(page, results(0.08))  # a second run replaces the first's figures
    text = page.read_text()
    assert text.startswith("# Performance\n\nThe load test's figures.\n")
    assert text.count(HEADING) == text.count(START) == text.count(END) == 1
    assert text.count(report.COSTS_HEADING) == 1 and "| 3.6 |" in text
    assert "| 80.0 (2.00x) |" in text and "60.0 (1.50x)" not in text
    assert markdown(results(0.08)) in text
