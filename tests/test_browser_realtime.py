"""Light cycles in a real browser: the client's tick frames, the canvas
board and its controls, and a whole real-time match on a live server.

The first tests drive the browser code itself on a live page (the client's
MatchConnection with its socket replaced by a recorder, fed frames the
game's own Python rules made); the last plays a match on a real daphne, whose
loop ticks in-process: two contexts steer by pressing keys, a third watches,
and one player's socket is killed mid-match.

Needs /usr/bin/chromium, like tests/test_browser.py (whose fixtures it uses).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lightcycles.rules import STEPS, LightCycles, LightCyclesInput, free, room, turns
from tests.test_browser import (  # noqa: F401 (fixtures)
    Page,
    People,
    browser,
    expect,
    orm_beside_playwright,
    people,
    screenshot,
    site,
)

pytestmark = pytest.mark.django_db(transaction=True)
GAME = LightCycles()
KEYS = {"up": "ArrowUp", "down": "ArrowDown", "left": "ArrowLeft", "right": "ArrowRight"}


def play_rules(seats: int, size: int, inputs: dict[int, dict[int, list[str]]], ticks: int) -> Iterator[tuple]:
    """Each tick of a match played by the Python rules: (state before, tick, frame, state after)."""
    state = GAME.initial_state(seats, {"size": size})
    for tick in range(1, ticks + 1):
        given = {seat: [LightCyclesInput(dir=d) for d in dirs] for seat, dirs in inputs.get(tick, {}).items()}
        after = GAME.apply_tick(state, tick, given)
        yield state, tick, GAME.frame(state, after), after
        state = after
        if GAME.result(state) is not None:
            return


def applies_frames_as_the_rules_do(page: Page) -> None:
    """lightcycles/board.js's applyFrame is rules.apply_frame: every frame of
    a four-cycle match with turns, double turns (a queued turn) and crashes
    rebuilds the server's state exactly."""
    rng = random.Random(14)
    inputs = {
        tick: {seat: rng.sample(list(STEPS), rng.choice([0, 1, 1, 2])) for seat in range(4)} for tick in range(1, 200)
    }
    ticks = list(play_rules(4, 16, inputs, 199))
    assert any("queued" in frame for _, _, frame, _ in ticks), "the match has a carried turn"
    assert any(None in frame["heads"] for _, _, frame, _ in ticks), "a cycle is out before the end"
    assert GAME.result(ticks[-1][3]) is not None, "the match ends"
    rebuilt = page.evaluate(
        """async ({ initial, frames }) => {
            const { applyFrame } = await import("/static/lightcycles/board.js");
            const states = [];
            let state = initial;
            for (const frame of frames) states.push(state = applyFrame(state, frame));
            return { states, initial };
        }""",
        {"initial": ticks[0][0], "frames": [frame for _, _, frame, _ in ticks]},
    )
    assert rebuilt["states"] == [after for _, _, _, after in ticks]
    assert rebuilt["initial"] == ticks[0][0], "a state is never changed in place"


# The harness below stands a MatchConnection up on a live page with its
# socket replaced by a recorder of what it sends; `feed` hands it server
# messages, `peek` reads what it holds.
HARNESS = """async ({ me }) => {
    const { GameClient, MatchConnection } = await import("/static/games/client.js");
    const { frameApplier, loadBoard, renderBoard } = await import("/static/games/boards.js");
    await import("/static/lightcycles/board.js");
    await loadBoard("lightcycles"); // the frames' applier, ready before the first frame
    const client = new GameClient({ player: me });
    const frames = (slug) => loadBoard(slug).then(() => frameApplier(slug));
    const connection = new MatchConnection(client, 1, { frames });
    connection.sent = [];
    connection.send = (message) => (connection.sent.push(message), true);
    connection.ticks = 0;
    connection.addEventListener("tick", () => connection.ticks++);
    const element = document.createElement("div");
    element.id = "arena";
    document.querySelector("main").prepend(element);
    const draw = () => renderBoard(element, connection.match, {
        mySeat: connection.mySeat, canMove: true, live: connection, onMove: (input) => connection.input(input),
    });
    connection.addEventListener("change", draw);
    window.__live = connection;
}"""


class Harness:
    def __init__(self, page: Page, me: dict[str, Any] | None) -> None:
        self.page = page
        page.evaluate(HARNESS, {"me": me})

    def feed(self, *messages: dict[str, Any]) -> None:
        self.page.evaluate("(messages) => messages.forEach((m) => window.__live.handle(structuredClone(m)))", messages)
        self.page.wait_for_timeout(30)  # the frame applier loads asynchronously, the resync waits a turn

    def peek(self) -> dict[str, Any]:
        return self.page.evaluate(
            """() => { const c = window.__live;
                return { tick: c.tick, state: c.match && c.match.state, status: c.match && c.match.status,
                         sent: c.sent, latency: c.latency, ticks: c.ticks, players: c.match && c.match.players }; }"""
        )

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.peek()["sent"] if message["type"] == kind]


PLAYERS = [
    {"seat": 0, "id": 1, "name": "ana", "connected": True},
    {"seat": 1, "id": 2, "name": "ben", "connected": True},
]


def view(state: dict[str, Any], seq: int = 3, status: str = "active") -> dict[str, Any]:
    return {
        "id": 1,
        "game": "lightcycles",
        "status": status,
        "seq": seq,
        "seats": 2,
        "options": {"size": len(state["grid"])},
        "players": [dict(p) for p in PLAYERS],
        "turn": [0, 1],
        "state": state,
        "result": None,
        "clock": None,
        "deadline": None,
        "draw_offer": None,
        "rematch": {"seats": [], "match": None},
    }


def snapshot(state: dict[str, Any], epoch: int, seq: int = 3) -> dict[str, Any]:
    realtime = {"tick_ms": 50, "frame_every": 1, "epoch": epoch, "tick": state["tick"]}
    return {"type": "snapshot", "match": view(state, seq), "protocol": 2, "realtime": realtime}


def tick(frames: dict[int, dict[str, Any]], number: int, epoch: int = 1, **extra: Any) -> dict[str, Any]:
    return {"type": "tick", "match": 1, "tick": number, "epoch": epoch, "frame": frames[number], **extra}


def test_the_client_applies_tick_frames_as_the_rules_do_in_order_and_never_rolls_back(people: People) -> None:  # noqa: F811
    page = people.open("/")
    applies_frames_as_the_rules_do(page)
    ticks = list(play_rules(2, 24, {3: {0: ["down"]}}, 12))
    states = {0: ticks[0][0], **{number: after for _, number, _, after in ticks}}
    frames = {number: frame for _, number, frame, _ in ticks}
    live = Harness(page, {"id": 1, "name": "ana"})

    live.feed(tick(frames, 3))  # a frame before the snapshot waits for it
    live.feed(snapshot(states[2], epoch=1), tick(frames, 4))
    seen = live.peek()
    assert (seen["tick"], seen["state"]) == (4, states[4])
    assert live.sent("resync") == []

    # Old, repeated and former owners' frames are ignored.
    live.feed(tick(frames, 4), tick(frames, 2), {**tick(frames, 5), "epoch": 0})
    assert live.peek()["tick"] == 4

    # A gap: one resync ({"type": "resync"}), frames held until the snapshot.
    live.feed(tick(frames, 6), tick(frames, 7))
    assert live.sent("resync") == [{"type": "resync"}]
    assert live.peek()["tick"] == 4
    live.feed(snapshot(states[6], epoch=1, seq=3))
    seen = live.peek()
    assert (seen["tick"], seen["state"]) == (7, states[7]), "the held frame 7 follows the snapshot's tick 6"

    # A logged event older than the ticks shown changes the match, not the board.
    older_patch = [["/state/tick", 5], ["/state/grid/6", "." * 12], ["/players/1/connected", False]]
    live.feed({"type": "event", "seq": 4, "event": {"kind": "ticks"}, "patch": older_patch})
    seen = live.peek()
    assert (seen["tick"], seen["state"]) == (7, states[7])
    assert seen["players"][1]["connected"] is False
    whole = {"type": "event", "seq": 5, "event": {"kind": "ticks"}, "match": {**view(states[5], seq=5)}}
    live.feed(whole)
    assert live.peek()["state"] == states[7]

    # An input: sent with the tick shown; its tick frame's "applied" gives the latency.
    page.evaluate("window.__live.input({dir: 'down'})")
    assert live.sent("input") == [{"type": "input", "input": {"dir": "down"}, "tick": 7}]
    live.feed(tick(frames, 8, applied=[[1, {"dir": "down"}], [0, {"dir": "down"}]]))
    latency = live.peek()["latency"]
    assert isinstance(latency, int | float) and 0 <= latency < 1000

    # A new owner (a higher epoch): its history may differ by a lost input, so a snapshot from it.
    live.feed(tick(frames, 9, epoch=2))
    page.wait_for_timeout(1100)  # at most one resync a second
    assert live.sent("resync") == [{"type": "resync"}] * 2
    live.feed(snapshot(states[8], epoch=2, seq=5))
    seen = live.peek()
    assert (seen["tick"], seen["state"]) == (9, states[9])
    # Once the log holds every tick shown, the next owner's frames simply follow.
    live.feed({"type": "event", "seq": 6, "event": {"kind": "ticks"}, "match": view(states[9], seq=6)})
    live.feed(tick(frames, 10, epoch=3))
    seen = live.peek()
    assert (seen["tick"], seen["state"]) == (10, states[10])
    assert len(live.sent("resync")) == 2

    # A frame names the tick its changes start from: one that does not start
    # from the tick shown is a gap, even one tick ahead.
    live.feed({**tick(frames, 11, epoch=3), "since": 10})
    assert live.peek()["tick"] == 11
    page.wait_for_timeout(1100)
    live.feed({**tick(frames, 12, epoch=3), "since": 10})
    assert live.peek()["tick"] == 11
    assert len(live.sent("resync")) == 3


def test_the_canvas_board_counts_down_steers_and_marks_crashes(browser: Any, site: str) -> None:  # noqa: F811
    crowd = People(browser, site)
    page = crowd.visit(
        browser.new_context(has_touch=True, viewport={"width": 600, "height": 900}).new_page(), "/", None
    )
    ticks = list(play_rules(2, 10, {}, 20))  # nobody steers: both hit the far walls on the same tick
    states = {0: ticks[0][0], **{number: after for _, number, _, after in ticks}}
    frames = {number: frame for _, number, frame, _ in ticks}
    live = Harness(page, {"id": 1, "name": "ana"})
    live.feed(snapshot(states[0], epoch=1))
    board = page.locator("#arena")
    expect(board.get_by_test_id("status")).to_have_text("Get ready…")
    expect(board.get_by_test_id("tick")).to_have_text("0")
    expect(board.get_by_test_id("board")).to_be_visible()
    expect(board.get_by_test_id("latency")).to_have_text("\u2013")  # a dash: no input yet
    expect(board.locator(".lc-help")).to_contain_text("arrow")

    # Heading right: right and left (a reversal) are not sent; W turns up,
    # then A turns left from there (a double turn); a third input is one too many.
    for key in ("ArrowRight", "ArrowLeft", "w", "a", "s"):
        page.keyboard.press(key)
    assert [m["input"] for m in live.sent("input")] == [{"dir": "up"}, {"dir": "left"}]
    # Typing in a field steers nothing.
    page.locator("#name").press_sequentially("dw")
    page.evaluate("document.activeElement.blur()")
    assert len(live.sent("input")) == 2

    live.feed(tick(frames, 1), tick(frames, 2))
    expect(board.get_by_test_id("tick")).to_have_text("2")
    expect(board.get_by_test_id("status")).to_have_text("Go!")
    page.keyboard.press("ArrowDown")  # heading right (these frames applied no input): down turns
    swipe(page, dx=-80, dy=0)  # a swipe to the left, in the same tick: a second turn
    assert [m["input"] for m in live.sent("input")][2:] == [{"dir": "down"}, {"dir": "left"}]
    screenshot(page, "lightcycles-racing.png")

    live.feed(*(tick(frames, number) for number in range(3, len(ticks) + 1)))
    last = len(ticks)
    expect(board.get_by_test_id("tick")).to_have_text(str(last))
    expect(board.locator("li[data-seat='0']")).to_contain_text(f"crashed on tick {last}")
    expect(board.locator("li[data-seat='1']")).to_contain_text(f"crashed on tick {last}")
    expect(board.get_by_test_id("status")).to_have_text(f"You crashed on tick {last}.")
    page.keyboard.press("w")  # out: nothing more to steer
    assert len(live.sent("input")) == 4

    # A spectator's board has no controls.
    watcher = crowd.visit(browser.new_context(has_touch=True).new_page(), "/", None)
    spectator = Harness(watcher, None)
    spectator.feed(snapshot(states[3], epoch=1))
    expect(watcher.locator("#arena").get_by_test_id("tick")).to_have_text("3")
    expect(watcher.locator("#arena .lc-help")).to_be_hidden()
    watcher.keyboard.press("ArrowUp")
    swipe(watcher, dx=80, dy=0)
    assert spectator.sent("input") == []
    assert crowd.errors == []


def swipe(page: Page, dx: float, dy: float) -> None:
    page.evaluate(
        """([dx, dy]) => {
            const canvas = document.querySelector("#arena canvas");
            const box = canvas.getBoundingClientRect();
            const at = (x, y) => new Touch({ identifier: 1, target: canvas, clientX: x, clientY: y });
            const x = box.left + box.width / 2, y = box.top + box.height / 2;
            const start = at(x, y), end = at(x + dx, y + dy);
            const touch = (type, touches, changed) => canvas.dispatchEvent(
                new TouchEvent(type, { touches, changedTouches: [changed], bubbles: true, cancelable: true }));
            touch("touchstart", [start], start);
            touch("touchmove", [end], end);
            touch("touchend", [], end);
        }""",
        [dx, dy],
    )


# --- a whole match on a live server -------------------------------------------

LOOK = """() => { const c = window.__match;
    return c && c.match ? { tick: c.tick, epoch: c.stateEpoch, seat: c.mySeat, status: c.match.status,
                            state: c.match.state, open: c.state === "open", latency: c.latency } : null; }"""
ROOM = 120
LOOKAHEAD = 8  # cells: a key press may reach the server some ticks after the page showed the state


class Rider:
    """Steers one player's cycle by pressing keys on their page, from the
    state the page shows: straight on while the cells ahead are free and
    there is room, else towards the most room. The test polls the pages
    between key presses on a busy machine, so it looks a few cells ahead."""

    def __init__(self, page: Page, trace: list[str]) -> None:
        self.page = page
        self.pressed: tuple[str, int] | None = None
        self.presses = 0
        self.trace = trace

    def look(self) -> dict[str, Any]:
        return self.page.evaluate(LOOK)

    def ride(self, seen: dict[str, Any]) -> None:
        state, seat = seen["state"], seen["seat"]
        self.seat = seat
        if seen["status"] != "active" or not state["cycles"][seat]["alive"]:
            return
        cycle = state["cycles"][seat]
        heading = state["queued"][seat] or cycle["dir"]
        if self.pressed is not None:  # until the last press shows (or surely went astray)
            direction, at = self.pressed
            if heading != direction and state["tick"] < at + 3:
                return
            self.pressed = None
        direction = self.choose(state["grid"], cycle["x"], cycle["y"], heading)
        if direction is not None:
            self.press(direction, state["tick"])

    @staticmethod
    def choose(grid: list[str], x: int, y: int, heading: str) -> str | None:
        """None (straight on) or the turn to take: the way with room enough,
        then the longest clear run, then the most room."""

        def score(direction: str) -> tuple[bool, int, int]:
            dx, dy = STEPS[direction]
            run = 0
            while run < 2 * LOOKAHEAD and free(grid, x + (run + 1) * dx, y + (run + 1) * dy):
                run += 1
            space = room(grid, x + dx, y + dy, ROOM)
            return space >= ROOM // 2, min(run, LOOKAHEAD), space

        options = [heading, *(d for d in STEPS if turns(heading, d))]
        if score(heading) >= (True, LOOKAHEAD, 0):
            return None
        best = max(options, key=lambda d: (score(d), d == heading))
        return None if best == heading else best

    def press(self, direction: str, at: int) -> None:
        self.trace.append(f"seat {self.seat} presses {direction} at tick {at}")
        self.page.keyboard.press(KEYS[direction])
        self.pressed = (direction, at)
        self.presses += 1

    def crash(self, seen: dict[str, Any]) -> None:
        """Turn towards the nearest wall (a quarter turn) and ride into it."""
        state, seat = seen["state"], seen["seat"]
        self.trace.append(f"seat {seat} rides into the wall from tick {state['tick']}")
        cycle, size = state["cycles"][seat], len(state["grid"])
        heading = state["queued"][seat] or cycle["dir"]
        distance = {"up": cycle["y"], "down": size - 1 - cycle["y"], "left": cycle["x"], "right": size - 1 - cycle["x"]}
        way = min((d for d in STEPS if d == heading or turns(heading, d)), key=lambda d: distance[d])
        if way != heading:
            self.press(way, state["tick"])


def look(seen: dict[str, Any]) -> str:
    """One poll of a page, short: its tick, socket and cycles."""
    cycles = " ".join(f"{c['x']},{c['y']},{c['dir']}{'' if c['alive'] else 'X'}" for c in seen["state"]["cycles"])
    return f"t{seen['tick']}e{seen['epoch']}{'' if seen['open'] else '(closed)'}[{cycles}]"


def runway(seen: dict[str, Any]) -> int:
    """Free cells straight ahead of the viewer's cycle."""
    state = seen["state"]
    cycle = state["cycles"][seen["seat"]]
    dx, dy = STEPS[cycle["dir"]]
    cells = 0
    while free(state["grid"], cycle["x"] + (cells + 1) * dx, cycle["y"] + (cells + 1) * dy):
        cells += 1
    return cells


def test_two_players_race_light_cycles_to_the_end_as_a_spectator_watches(people: People) -> None:  # noqa: F811
    alice = people.open("/", "alice")
    alice.select_option("#game", "lightcycles")
    alice.click("text=Create the match")
    alice.wait_for_url(re.compile(r"/matches/\d+/$"))
    path = alice.url.removeprefix(people.site)
    match_id = int(path.strip("/").split("/")[-1])
    watcher = people.browser.new_context().new_page()
    sent_by_watcher: list[str] = []
    watcher.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent_by_watcher.append(str(payload))))
    people.visit(watcher, path, None)
    bob = people.open(path, "bob")
    bob.click("#take-seat")
    expect(alice.locator("#side")).to_have_text("You play blue.")
    expect(bob.locator("#side")).to_have_text("You play orange.")
    for page in (alice, bob, watcher):  # the countdown, then the race, on every screen
        expect(page.locator("#board").get_by_test_id("status")).to_have_text(re.compile(r"^Get ready"))
    expect(watcher.locator("#status")).to_have_text("Watching.")
    expect(watcher.locator("#board .lc-help")).to_be_hidden()
    watcher.keyboard.press("ArrowUp")  # a spectator's keys steer nothing

    trace: list[str] = []  # what happened, for a failure's message
    riders = {"alice": Rider(alice, trace), "bob": Rider(bob, trace)}
    dropped_at: int | None = None
    went_down = False
    resumed: list[int] = []
    ending = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = {name: rider.look() for name, rider in riders.items()}
        trace.append(" ".join(f"{name}:{look(s)}" for name, s in seen.items()))
        if any(s["status"] != "active" for s in seen.values()):
            break
        for name, rider in riders.items():
            if not (ending and name == "alice"):
                rider.ride(seen[name])
        ticked = seen["bob"]["tick"]
        if dropped_at is None and ticked >= 3 and runway(seen["bob"]) >= 12:
            bob.evaluate("window.__match.socket.close()")  # the network drops bob's socket mid-match
            dropped_at = ticked
        elif dropped_at is not None and not seen["bob"]["open"]:
            went_down = True
        elif went_down and seen["bob"]["open"] and ticked > dropped_at:
            resumed.append(ticked)
        # Once both have seen an input of theirs come back in a tick, alice ends it.
        if (
            not ending
            and resumed
            and resumed[-1] - resumed[0] >= 10
            and all(s["latency"] is not None for s in seen.values())
        ):
            riders["alice"].crash(seen["alice"])
            ending = True
        time.sleep(0.005)
    else:
        raise AssertionError("the match did not end in 60 s:\n" + "\n".join(trace))

    story = "\n".join(trace)
    assert dropped_at is not None and went_down, f"bob's socket was dropped mid-match:\n{story}"
    # The tick shown on bob's page went on rising after he reconnected.
    assert resumed == sorted(resumed) and len(set(resumed)) >= 3, f"bob's ticks after reconnecting:\n{story}"
    assert resumed[-1] - resumed[0] >= 10, f"bob's ticks after reconnecting:\n{story}"
    assert ending, f"both steered, then alice rode into a wall:\n{story}"
    expect(alice.locator("#status")).to_have_text(re.compile(r"won|Draw"))
    final = httpx.get(f"{people.site}/api/matches/{match_id}").json()
    assert final["status"] == "finished" and final["result"]["winner"] == 1, f"{final['result']}:\n{story}"
    expect(alice.locator("#status")).to_have_text("bob won (last cycle).")
    expect(bob.locator("#status")).to_have_text("You won (last cycle)!")
    expect(watcher.locator("#status")).to_have_text("bob won (last cycle).")
    for page in (alice, bob, watcher):  # every screen ends on the server's own final state
        expect(page.locator("#board").get_by_test_id("tick")).to_have_text(str(final["state"]["tick"]))
        assert page.evaluate("window.__match.match.state") == final["state"]
        expect(page.locator("#board").get_by_test_id("status")).to_contain_text(
            f"Over on tick {final['state']['tick']}"
        )
    expect(alice.locator("#board li[data-seat='0']")).to_contain_text("crashed on tick")
    for page in (alice, bob):  # both pressed keys over an open socket: their input latency shows
        latency = page.evaluate("window.__match.latency")
        assert latency is not None and 0 < latency < 2000, f"{page.evaluate('window.__match.inputs')}\n{story}"
        shown = page.locator("#board").get_by_test_id("latency")
        expect(shown).to_have_text(re.compile(r"^\d+ ms$"))
        assert abs(int(shown.inner_text().split()[0]) - latency) <= 0.5
    screenshot(watcher, "lightcycles-finished.png")
    assert not [frame for frame in sent_by_watcher if json.loads(frame).get("type") == "input"]

    # The replay lists the logged ticks, each with the turns applied at it.
    steps = httpx.get(f"{people.site}/api/matches/{match_id}/replay").json()["steps"]
    riders_of = {0: "alice: blue", 1: "bob: orange"}
    logged = [step["event"]["move"] for step in steps if step["event"]["kind"] == "ticks"]
    told = [
        f"tick {move['tick']}"
        + "".join(
            f"{' · ' if index == 0 else ', '}{riders_of[seat]} turns {sent['dir']}"
            for index, (seat, sent) in enumerate(move["inputs"])
        )
        for move in logged
    ]
    assert logged[-1]["tick"] == final["state"]["tick"] and any(move["inputs"] for move in logged)
    alice.click("#replay-link")
    expect(alice.locator("#log li").filter(has_text=re.compile(r"^tick "))).to_have_text(told)


def test_three_riders_from_the_lobby_form_with_its_size_and_no_clock(people: People) -> None:  # noqa: F811
    """The new match form offers light cycles' own size and player count and
    no clock; three cycles that never turn on a 10x10 grid: seat 1 (dave)
    is the last one moving after tick 3, on every screen."""
    carol = people.open("/", "carol")
    carol.select_option("#game", "lightcycles")
    expect(carol.locator("#time-options")).to_be_hidden()  # the ticks are the clock
    size = carol.get_by_label("Size")
    expect(size).to_have_value("32")
    assert (size.get_attribute("min"), size.get_attribute("max")) == ("10", "64")
    expect(carol.locator("#seats option")).to_have_text(["2", "3", "4"])
    size.fill("10")
    carol.select_option("#seats", "3")
    carol.click("text=Create the match")
    carol.wait_for_url(re.compile(r"/matches/\d+/$"))
    match_id = int(carol.url.rstrip("/").split("/")[-1])
    created = httpx.get(f"{people.site}/api/matches/{match_id}").json()
    assert (created["options"]["size"], created["seats"], len(created["state"]["grid"])) == (10, 3, 10)

    riders = [carol]
    for name in ("dave", "eve"):
        page = people.open("/", name)
        row = page.locator(f"#open-matches li[data-match='{match_id}']")
        expect(row).to_contain_text("(3 players, size 10)")
        row.get_by_role("button", name=re.compile("^Join")).click()
        page.wait_for_url(re.compile(rf"/matches/{match_id}/$"))
        riders.append(page)
    expect(riders[1].locator("#status")).to_have_text("You won (last cycle)!", timeout=15_000)
    for page in (riders[0], riders[2]):
        expect(page.locator("#status")).to_have_text("dave won (last cycle).")
        expect(page.locator("#board").get_by_test_id("tick")).to_have_text("3")

    riders[0].goto(f"{people.site}/")
    riders[0].select_option("#game", "tictactoe")
    expect(riders[0].locator("#time-options")).to_be_visible()
    expect(riders[0].locator("#game-options")).to_be_empty()
