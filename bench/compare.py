"""Two versions of the project measured back to back, in one run, on one
machine: the per-message costs (``manage.py benchcosts``) and a short load
test at one fixed configuration (``manage.py loadtest``), then the ratios
after / before.

    .venv/bin/python -m bench.compare --before f646f73
    .venv/bin/python -m bench.compare --before /tmp/before --after . --rounds 3

``--before`` and ``--after`` are checkouts, or revisions of this repository
(cloned into a scratch directory for the run, never touching this one's git
state). Each version runs with its own ``manage.py`` and its own benchmark
code, on the Python given (by default this one: the requirements must be the
same, else pass ``--before-python``). With ``--rounds N`` the versions
alternate (before, after, after, before, ...) and each figure is the median
of its N runs. Only the standard library is imported here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Where benchcosts makes its scratch database: the PostgreSQL server loadtest
# uses too (bench.servers.Config, as are the Redis server and its database).
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
HIGHER_IS_BETTER = ("moves_per_s",)


@dataclass
class Version:
    """One side of the comparison: a checkout and the Python that runs it."""

    label: str
    root: Path
    python: str
    commit: str


def _git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def checkout(label: str, where: str, python: str, scratch: Path) -> Version:
    """A directory as it is, or a revision of this repository cloned into ``scratch``."""
    path = Path(where)
    cloned = not path.is_dir()
    if cloned:
        path = scratch / label
        subprocess.run(["git", "clone", "-q", str(ROOT), str(path)], check=True)
        subprocess.run(["git", "-C", str(path), "checkout", "-q", where], check=True)
    path = path.resolve()
    if not (path / "manage.py").exists():
        raise SystemExit(f"{path} is not a checkout of the project (no manage.py)")
    try:
        commit = _git("rev-parse", "--short", "HEAD", cwd=path)
    except (subprocess.CalledProcessError, FileNotFoundError):
        commit = "?"
    if not cloned:  # measured as it is, uncommitted changes included
        commit = f"{path.name} at {commit}"
    version = Version(label, path, python, commit)
    imported = run(version, ["-c", "import games; print(games.__file__)"]).stdout.strip()
    if not Path(imported).resolve().is_relative_to(path):  # an installed copy would measure the wrong code
        raise SystemExit(f"{label}: {python} imports the project from {imported}, not from {path}")
    return version


def environment(database: str) -> dict[str, str]:
    """The commands' environment. No REDIS_URL: with it benchcosts' cache is
    Redis, whose cache.clear() would empty the whole Redis database; loadtest
    gives the servers it starts the Redis layer itself."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "REDIS_URL", "DATABASE_URL")}
    env.update(DJANGO_SETTINGS_MODULE="gameproject.settings", SECRET_KEY="bench-compare")
    if database == "postgres":  # else SQLite, benchcosts' scratch database in memory
        env["DATABASE_URL"] = POSTGRES_URL
    return env


def run(version: Version, args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [version.python, *args], cwd=version.root, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"{version.label} ({version.root}): {' '.join(args[:2])} failed with {result.returncode}")
    return result


def measure(version: Version, options: argparse.Namespace, out: Path) -> dict[str, float]:
    """One run of each benchmark on ``version``: the figures, flat."""
    env = environment(options.database)
    figures: dict[str, float] = {}
    started = time.monotonic()
    label = ["--label", version.label]  # "before" or "after": the column it fills in its own report
    run(version, ["manage.py", "benchcosts", "--repeat", str(options.repeat), "--out", str(out), *label], env)
    costs = json.loads((out / "performance-costs.json").read_text())[version.label]
    figures.update({f"costs {key}": value for key, value in costs.items() if isinstance(value, int | float)})
    figures.pop("costs plies", None)
    costs_seconds = time.monotonic() - started
    loadtest = ["manage.py", "loadtest", "--matches", str(options.matches), "--spectators", str(options.spectators),
                "--duration", str(options.duration), "--rates", str(options.rate), "--server", options.server,
                "--layer", options.layer, "--database", options.database, "--processes", "1", "--profile", "0",
                "--connections", "0", "--polling-matches", "1", "--out", str(out)]  # fmt: skip
    run(version, loadtest, env)
    results = json.loads((out / "performance.json").read_text())
    rows = {row["name"]: row for row in results["saturated"]}
    project = rows["the project, 1 process"]
    rate = results["latency_by_rate"][0]
    for key in ("moves_per_s", "p50_ms", "p99_ms"):
        figures[f"saturated {key}"] = project[key]
    for key in ("p50_ms", "p99_ms", "incomplete"):  # the offered rate's latency, and moves never delivered
        figures[f"at {options.rate:g} moves/s {key}"] = rate[key]
    for name, row in rows.items():
        if "baseline" in name:  # the same code on both sides: how steady the machine was
            figures[f"control: {name.split(' baseline')[0]} baseline moves_per_s"] = row["moves_per_s"]
    print(f"  {version.label}: benchcosts {costs_seconds:.0f} s, loadtest {results['seconds']:.0f} s", flush=True)
    return figures


def ratio_rows(before: dict[str, float], after: dict[str, float]) -> list[dict[str, Any]]:
    rows = []
    for key in [*before, *(key for key in after if key not in before)]:
        b, a = before.get(key), after.get(key)
        ratio = a / b if a is not None and b else None
        better = "higher" if key.endswith(HIGHER_IS_BETTER) else "lower"
        rows.append({"figure": key, "before": b, "after": a, "ratio": ratio, "better": better})
    return rows


def steady(ratio: float | None) -> bool:
    """Whether a control (the same code on both sides) came out the same, within 10%."""
    return ratio is not None and 0.9 <= ratio <= 1.1


def _cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def table(rows: list[dict[str, Any]], before: Version, after: Version) -> str:
    lines = [
        f"| figure | before ({before.commit}) | after ({after.commit}) | after / before | better |",
        "|---|---:|---:|---:|---|",
    ]
    for row in rows:
        cells = [row["figure"], _cell(row["before"]), _cell(row["after"]), _cell(row["ratio"], 3), row["better"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def median_figures(runs: list[dict[str, float]]) -> dict[str, float]:
    keys = dict.fromkeys(key for figures in runs for key in figures)
    return {key: statistics.median(f[key] for f in runs if key in f) for key in keys}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="a checkout, or a revision of this repository")
    parser.add_argument("--after", default=str(ROOT), help="a checkout or a revision (default: this working tree)")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs the after version")
    parser.add_argument("--before-python", help="the Python that runs the before version (default: --python)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each version, alternating; figures are medians")
    parser.add_argument("--repeat", type=int, default=50, help="benchcosts --repeat")
    parser.add_argument("--matches", type=int, default=50, help="loadtest --matches (connect-four matches)")
    parser.add_argument("--spectators", type=int, default=1, help="loadtest --spectators (per match)")
    parser.add_argument("--duration", type=float, default=10, help="loadtest --duration (seconds per step)")
    parser.add_argument("--rate", type=float, default=50, help="the offered moves/s of the open-loop latency step")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--layer", choices=["memory", "redis", "pubsub"], default="redis")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--out", help="a directory for every run's raw output and compare.json (default: scratch)")
    parser.add_argument("--quick", action="store_true", help="a tiny load and few repeats: checks the tool works")
    options = parser.parse_args(argv)
    if options.quick:
        options.repeat, options.matches, options.duration, options.rate = 3, 4, 2, 4
    return options


def main(argv: list[str] | None = None) -> dict[str, Any]:
    options = parse(argv)
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    out = Path(options.out).resolve() if options.out else scratch / "out"
    try:
        before = checkout("before", options.before, options.before_python or options.python, scratch)
        after = checkout("after", options.after, options.python, scratch)
        print(f"before: {before.root} ({before.commit}), after: {after.root} ({after.commit})", flush=True)
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for round_ in range(options.rounds):
            order = (before, after) if round_ % 2 == 0 else (after, before)
            for version in order:
                where = out / f"{version.label}-{round_ + 1}"
                where.mkdir(parents=True, exist_ok=True)
                runs[version.label].append(measure(version, options, where))
        rows = ratio_rows(median_figures(runs["before"]), median_figures(runs["after"]))
        seconds = time.monotonic() - started
        configuration = (
            f"loadtest: {options.matches} connect-four matches, {options.spectators} spectator(s) each, "
            f"{options.server}, {options.layer} layer, {options.database}, 1 process, {options.duration:g} s steps; "
            f"benchcosts --repeat {options.repeat}; {options.rounds} round(s); took {seconds:.0f} s"
        )
        report = {
            "before": {"root": str(before.root), "commit": before.commit, "runs": runs["before"]},
            "after": {"root": str(after.root), "commit": after.commit, "runs": runs["after"]},
            "configuration": configuration,
            "seconds": seconds,
            "rows": rows,
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"\n{configuration}\n\n{table(rows, before, after)}\n")
        unsteady = [row["figure"] for row in rows if row["figure"].startswith("control") and not steady(row["ratio"])]
        if unsteady:
            print(f"The machine was not steady ({', '.join(unsteady)} off by more than 10%): run it again.")
        if options.out:
            print(f"wrote {out}/compare.json and every run's raw output under {out}")
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
