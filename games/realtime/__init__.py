"""Real-time matches: a server-authoritative tick loop per live match, run
by one process at a time, taken over by another when that one dies.

* ``lease``: who owns a match's loop (a ``MatchLease`` row per active
  real-time match), taking over, renewing, and fencing writes by epoch.
* ``loop``: one match's loop: ticks on schedule, inputs, frames, the log.
* ``supervisor``: one per process; takes over lapsed matches, runs their
  loops, and reads this process's channel for inputs and snapshot requests.
* ``sockets``: the match socket's side: sending inputs to the owner, and
  snapshots as of the owner's tick.
* ``relay``: one per process; takes each tick frame once off the channel
  layer and hands it to every socket of the match on this process.
* ``config``: the settings and their defaults.

The rules' side (``RealtimeGame``) is ``games.engine.realtime``; the README
documents the protocol and docs/writing-a-game.md the contract.
"""

from __future__ import annotations


def install() -> None:
    """Connect the lease to the match's life and register the supervisor
    with ``games.background`` (from ``GamesConfig.ready``)."""
    from games.background import run_beside
    from games.realtime import config
    from games.realtime.supervisor import on_status_changed, supervise
    from games.signals import match_status_changed

    match_status_changed.connect(on_status_changed, dispatch_uid="games.realtime.on_status_changed")
    run_beside("real-time supervisor", supervise, in_process=config.in_process)
