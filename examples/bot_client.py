"""An external bot: a program that plays on the public API like any client.

It creates an account flagged as a bot (``POST /api/players`` with
``"is_bot": true``), starts a match against the server's random bot
(``POST /api/bots/matches``) or joins an open match (``--join ID``), and
plays it to the end with random legal moves it computes itself from the
match state the server sends: over the WebSocket (``/ws/matches/<id>/``,
authenticated with a ticket from ``POST /api/tickets``), or with
``--http``, over the HTTP fallback (``GET /api/matches/<id>``, ``POST
/api/matches/<id>/moves``).

It knows the legal moves of tic-tac-toe and connect four; a real bot
would implement the rules of its game (the README describes each game's
moves and state; ``GET /api/games`` gives their JSON Schemas).

Needs the ``websockets`` package, which is not a production dependency of
the server (``pip install websockets``; it is in ``requirements-dev.txt``).
HTTP uses the standard library only.

    python examples/bot_client.py --server http://localhost:8000 --game connect4
    python examples/bot_client.py --join 42 --name my-bot
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from websockets.sync.client import connect

Json = dict[str, Any]


class ApiError(Exception):
    def __init__(self, status: int, body: Json) -> None:
        error = body.get("error", {})
        super().__init__(f"{status} {error.get('code')}: {error.get('message')}")
        self.code = error.get("code")


class Api:
    """The HTTP API, as a bot sees it: JSON in and out, a Bearer token."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.token: str | None = None

    def call(self, method: str, path: str, body: Json | None = None) -> Json:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise ApiError(error.code, json.loads(error.read() or b"{}")) from None


def legal_moves(game: str, state: Json) -> list[Json]:
    """Every legal move in ``state`` (for the player whose turn it is)."""
    if game == "tictactoe":
        return [{"cell": cell} for cell, mark in enumerate(state["board"]) if mark is None]
    if game == "connect4":
        return [{"column": column} for column, discs in enumerate(state["columns"]) if len(discs) < 6]
    raise SystemExit(f"this example knows tic-tac-toe and connect four, not {game}")


def my_seat(match: Json, player_id: int) -> int:
    return next(player["seat"] for player in match["players"] if player["id"] == player_id)


def finished(match: Json) -> bool:
    return match["status"] in ("finished", "aborted")


def play_socket(api: Api, match_id: int, player_id: int, rng: random.Random) -> Json:
    """Play over the WebSocket until the match ends; returns the final match."""
    ticket = api.call("POST", "/api/tickets")["ticket"]
    url = api.server.replace("http", "ws", 1) + f"/ws/matches/{match_id}/?ticket={ticket}"
    with connect(url, open_timeout=10) as socket:
        sent_at, seen = -1, 0  # the seq we last moved at, the last seq we saw
        while True:
            message = json.loads(socket.recv(timeout=120))
            if message["type"] == "error":
                # stale_seq: something happened meanwhile. Look again (a
                # resync with nothing missed answers with a snapshot).
                print(f"refused: {message['code']}: {message['message']}", file=sys.stderr)
                sent_at = -1
                socket.send(json.dumps({"type": "resync", "after": seen}))
                continue
            if message["type"] not in ("snapshot", "event"):
                continue  # presence, chat
            match = message["match"]
            seen = match["seq"]
            if finished(match):
                return match
            if my_seat(match, player_id) in match["turn"] and match["seq"] != sent_at:
                move = rng.choice(legal_moves(match["game"], match["state"]))
                socket.send(json.dumps({"type": "move", "move": move, "seq": match["seq"]}))
                sent_at = match["seq"]


def play_http(api: Api, match_id: int, player_id: int, rng: random.Random) -> Json:
    """Play over the HTTP fallback (polling) until the match ends."""
    while True:
        match = api.call("GET", f"/api/matches/{match_id}")
        if finished(match):
            return match
        if my_seat(match, player_id) in match["turn"]:
            move = rng.choice(legal_moves(match["game"], match["state"]))
            try:
                api.call("POST", f"/api/matches/{match_id}/moves", {"move": move, "seq": match["seq"]})
            except ApiError as error:
                if error.code not in ("stale_seq", "not_your_turn"):
                    raise
            continue
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://localhost:8000")
    parser.add_argument("--name", default="example-bot")
    parser.add_argument("--game", default="tictactoe", choices=["tictactoe", "connect4"])
    parser.add_argument("--level", type=int, default=1, help="the server bot's level to play (GET /api/bots)")
    parser.add_argument("--join", type=int, help="join this open match instead of playing the server's bot")
    parser.add_argument("--http", action="store_true", help="play over HTTP instead of the WebSocket")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)

    api = Api(args.server)
    account = api.call("POST", "/api/players", {"name": args.name, "is_bot": True})
    api.token = account["token"]
    if args.join is not None:
        match = api.call("POST", f"/api/matches/{args.join}/join")
    else:
        match = api.call("POST", "/api/bots/matches", {"game": args.game, "level": args.level})
    print(f"playing match {match['id']} ({match['game']}) as {account['name']} (#{account['id']})")
    play = play_http if args.http else play_socket
    final = play(api, match["id"], account["id"], random.Random(args.seed))
    result = final["result"] or {}
    winner = result.get("winner")
    outcome = "draw" if winner is None else "won" if winner == my_seat(final, account["id"]) else "lost"
    print(f"match {final['id']} {final['status']}: {outcome} ({result.get('reason')}) after {final['seq']} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
