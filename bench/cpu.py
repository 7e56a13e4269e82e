"""CPU time of the processes a move costs, from their own accounting.

``/proc/<pid>/stat`` gives each process's user and system time (``utime`` and
``stime``, in clock ticks, every thread included). A measured window is two
:func:`sample` calls; :func:`spent` turns them into CPU seconds per group:

* ``server``: the server processes under test (their pids);
* ``postgres``: every PostgreSQL process (``comm`` "postgres"). Backends come
  and go, so: every process alive at the end counts from its time at the
  start (or from 0 if it started inside the window), plus what the
  postmaster's reaped children added to its ``cutime``/``cstime`` (backends
  that exited inside the window), less the time those that were alive at the
  start had already spent then. Backends of other databases (another test
  run on the same PostgreSQL) are counted too; ``postgres_other`` says how
  much of it they were, for those alive at the end;
* ``redis``: the Redis server (``comm`` "redis-server"), whoever its clients.

Only the standard library; Linux only (no ``/proc``: every figure is 0).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("server", "postgres", "redis")


@dataclass(frozen=True)
class Stat:
    comm: str
    ppid: int
    start: int  # starttime, in ticks since boot: with the pid, a process's identity
    own: int  # utime + stime, ticks
    children: int  # cutime + cstime: reaped children, ticks


@dataclass
class Sample:
    servers: dict[tuple[int, int], int] = field(default_factory=dict)
    postgres: dict[tuple[int, int], int] = field(default_factory=dict)
    postgres_other: dict[tuple[int, int], int] = field(default_factory=dict)
    postmaster_children: int = 0
    redis: dict[tuple[int, int], int] = field(default_factory=dict)


def stat(pid: int) -> Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, or not ours to read
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    rest = text[text.rindex(")") + 2 :].split()  # rest[0] is field 3 (state)
    utime, stime, cutime, cstime = (int(value) for value in rest[11:15])
    return Stat(comm=comm, ppid=int(rest[1]), start=int(rest[19]), own=utime + stime, children=cutime + cstime)


def _database_of(pid: int) -> str | None:
    """A backend's database, from its process title ("postgres: 15/main: user database host(port) state")."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    words = title.split(": ", 2)[-1].split()
    return words[1] if len(words) >= 3 and "(" in words[2] else None


def sample(server_pids: list[int], database: str | None = None) -> Sample:
    """The CPU ticks of the servers, every PostgreSQL process and Redis, now.
    ``database``: the run's PostgreSQL database; backends of any other one are
    also kept apart in ``postgres_other``."""
    result = Sample()
    for pid in server_pids:
        if (s := stat(pid)) is not None:
            result.servers[(pid, s.start)] = s.own
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        s = stat(pid)
        if s is None:
            continue
        if s.comm == "postgres":
            result.postgres[(pid, s.start)] = s.own
            parent = stat(s.ppid)
            if parent is None or parent.comm != "postgres":  # the postmaster
                result.postmaster_children += s.children
            elif database and (other := _database_of(pid)) and other != database:
                result.postgres_other[(pid, s.start)] = s.own
        elif s.comm == "redis-server":
            result.redis[(pid, s.start)] = s.own
    return result


def _alive_delta(before: dict, after: dict) -> int:
    return sum(ticks - before.get(key, 0) for key, ticks in after.items())


def spent(before: Sample, after: Sample) -> dict[str, float]:
    """CPU seconds each group spent between two samples."""
    exited = sum(ticks for key, ticks in before.postgres.items() if key not in after.postgres)
    postgres = _alive_delta(before.postgres, after.postgres) + after.postmaster_children - before.postmaster_children
    postgres -= exited
    seconds = {
        "server": _alive_delta(before.servers, after.servers) / TICK,
        "postgres": max(postgres, 0) / TICK,
        "redis": _alive_delta(before.redis, after.redis) / TICK,
    }
    seconds["total"] = sum(seconds[group] for group in GROUPS)
    seconds["postgres_other"] = _alive_delta(before.postgres_other, after.postgres_other) / TICK
    return seconds


def per_move(seconds: dict[str, float], moves: int) -> dict[str, float | None]:
    """``cpu_<group>_ms_per_move`` for a row of results."""
    return {
        f"cpu_{group}_ms_per_move": (round(1000 * value / moves, 3) if moves else None)
        for group, value in seconds.items()
    }
