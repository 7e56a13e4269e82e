// Light cycles' board: an ES module the pages import from the game's
// board_script ("lightcycles/board.js", given as board_url by GET /api/games).
// Importing it registers, with the pages' board registry (games/boards.js):
//
//   registerBoard("lightcycles", render, { sides, describeMove, applyFrame, animated: true })
//
// applyFrame(state, frame) is lightcycles.rules.apply_frame in JavaScript:
// the match page's connection applies every tick frame with it, so the state
// it holds is the server's, tick by tick (lightcycles/rules.py documents the
// state and the frame).
//
// The arena is a canvas. The trails come from the state's grid; on a live
// page (context.live, the match's connection) each head moving this tick is
// drawn between its cell of the previous tick and its current one,
// position = previous + (current - previous) * min(1, elapsed / tick_ms),
// redrawn with requestAnimationFrame, so a 20 Hz game moves smoothly at the
// screen's rate. Until the first tick it says "Get ready"; a crashed cycle is
// crossed out. The viewer's own cycle (never a spectator's) is steered with
// the arrow keys or W A S D, or by swiping on the arena: each sends
// {"dir": ...} through context.onMove (an input, applied at the next tick).
// The latency shown is the connection's: the average time from an input
// sent to the tick frame that applied it.
//
// Stable hooks for tests: data-testid "board" (the canvas), "tick" (the tick
// shown), "status" (get ready, go, crashed, over), "latency" (ms), and the
// legend's items, li[data-seat].

import { addStyles, h, registerBoard } from "../games/boards.js";

const EMPTY = ".";
const SEAT_MARKS = "0123";
const SIDES = ["blue", "orange", "green", "pink"];
const COLOURS = ["#3b82f6", "#f59e0b", "#22c55e", "#ec4899"];
const TRAILS = ["#1d4ed8", "#b45309", "#15803d", "#be185d"];
const BACKGROUND = "#0b1020";
const GRID_LINE = "#151c33";
const STEPS = { up: [0, -1], down: [0, 1], left: [-1, 0], right: [1, 0] };
const OPPOSITE = { up: "down", down: "up", left: "right", right: "left" };
const KEYS = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right" };
// By physical key, so W A S D sit where they do on any keyboard layout.
const CODES = { KeyW: "up", KeyS: "down", KeyA: "left", KeyD: "right" };
const SWIPE_PX = 24; // a shorter touch is not a swipe
const LARGEST_PX = 560; // the arena's widest, in CSS pixels
const DEFAULT_TICK_MS = 50;
const INPUTS_PER_TICK = 2; // LightCycles.inputs_per_tick (the snapshot says it too): more are refused
const MAX_COUNTDOWN_S = 10;

addStyles(`
.lightcycles { display: grid; gap: .4rem; width: min(100%, ${LARGEST_PX}px); }
.lightcycles .lc-bar { display: flex; justify-content: space-between; gap: 1rem; font-variant-numeric: tabular-nums; }
.lightcycles .lc-status { margin: 0; font-weight: 600; min-height: 1.4em; }
.lightcycles canvas { display: block; width: 100%; height: auto; aspect-ratio: 1; border-radius: .3rem; background: ${BACKGROUND}; touch-action: none; }
.lightcycles .lc-legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; margin: 0; padding: 0; list-style: none; }
.lightcycles .lc-legend .swatch { display: inline-block; width: .9em; height: .9em; margin-right: .35em; border-radius: .2em; vertical-align: -.1em; }
${COLOURS.map((colour, seat) => `.lightcycles .lc-legend .swatch.seat${seat} { background: ${colour}; }`).join("\n")}
.lightcycles .lc-legend .out { text-decoration: line-through; opacity: .7; }
.lightcycles .lc-help { margin: 0; font-size: .9em; opacity: .8; }
`);

/** Whether ``direction`` turns a cycle heading ``heading`` (a quarter turn). */
export const turns = (heading, direction) => direction !== heading && direction !== OPPOSITE[heading];

/** ``state`` with one tick's ``frame`` applied (a new state; ``state`` is
 * not changed): lightcycles.rules.apply_frame. */
export function applyFrame(state, frame) {
  const crashed = new Set(frame.crashed);
  const rows = [...state.grid];
  const cycles = state.cycles.map((cycle) => ({ ...cycle }));
  const crashedAt = [...state.crashed_at];
  frame.heads.forEach((head, seat) => {
    if (head === null) return;
    const [x, y, dir] = head;
    Object.assign(cycles[seat], { x, y, dir });
    if (crashed.has(seat)) {
      cycles[seat].alive = false;
      crashedAt[seat] = frame.tick;
    } else {
      rows[y] = rows[y].slice(0, x) + SEAT_MARKS[seat] + rows[y].slice(x + 1);
    }
  });
  const queued = frame.queued ? [...frame.queued] : cycles.map(() => null);
  return { grid: rows, cycles, tick: frame.tick, crashed_at: crashedAt, queued };
}

/** The direction a key press or a swipe asks for, or null. */
export function directionOfKey(event) {
  return KEYS[event.key] || CODES[event.code] || null;
}

export function directionOfSwipe(dx, dy) {
  if (Math.max(Math.abs(dx), Math.abs(dy)) < SWIPE_PX) return null;
  if (Math.abs(dx) > Math.abs(dy)) return dx > 0 ? "right" : "left";
  return dy > 0 ? "down" : "up";
}

const nameOf = (match, seat) => (match.players.find((p) => p.seat === seat) || {}).name || `seat ${seat + 1}`;

/** What the status line says. */
function statusOf(match, state, seat, countdown) {
  if (match.status === "waiting") return "Waiting for players…";
  if (match.status === "aborted") return "Aborted.";
  if (match.status === "finished" || match.result) {
    const result = match.result;
    if (!result) return `Over on tick ${state.tick}.`;
    if (result.winner === null) return `Over on tick ${state.tick}: a draw.`;
    return `Over on tick ${state.tick}: ${result.winner === seat ? "you win" : `${nameOf(match, result.winner)} wins`}.`;
  }
  if (state.tick === 0) return countdown === null ? "Get ready…" : `Get ready: ${countdown}…`;
  if (seat !== null && state.cycles[seat]) {
    return state.cycles[seat].alive ? "Go!" : `You crashed on tick ${state.crashed_at[seat]}.`;
  }
  return "Racing.";
}

function legendText(match, state, seat, mySeat) {
  const cycle = state.cycles[seat];
  const who = `${nameOf(match, seat)}${seat === mySeat ? " (you)" : ""}`;
  if (!cycle) return [who, ""];
  return [who, cycle.alive ? "" : ` · crashed on tick ${state.crashed_at[seat]}`];
}

/** One arena on the page: its canvas, texts and controls, drawn from the
 * connection's latest state on every animation frame while it plays. */
class Arena {
  constructor(live) {
    this.live = live; // the connection, or null (a replay: one still picture)
    this.match = null;
    this.context = {};
    this.canvas = h("canvas", { "data-testid": "board", role: "img", "aria-label": "Light cycles arena", tabindex: "0" });
    this.ctx = this.canvas.getContext("2d");
    this.trails = document.createElement("canvas");
    this.tickText = h("span", { "data-testid": "tick" }, "0");
    this.latencyText = h("span", { "data-testid": "latency" }, "–");
    this.statusText = h("p", { class: "lc-status", "data-testid": "status", role: "status", "aria-live": "polite" });
    this.legend = h("ul", { class: "lc-legend", "aria-label": "Cycles" });
    this.help = h("p", { class: "lc-help" });
    this.node = h(
      "div",
      { class: "lightcycles" },
      h("div", { class: "lc-bar" }, h("span", {}, "Tick ", this.tickText), h("span", { class: "lc-latency", title: "From your input to the tick that applied it, averaged" }, "Input latency ", this.latencyText)),
      this.statusText,
      this.canvas,
      this.legend,
      this.help,
    );
    this.texts = new Map(); // element -> the text it shows (set only when it changes)
    this.drawn = { state: null, key: "" };
    this.running = false;
    this.controlled = false;
    this.sent = null; // the last direction sent, the tick it was sent on, and how many on that tick
    this.sentTick = -1;
    this.sentCount = 0;
    this.onKey = (event) => this.key(event);
    this.onTouchStart = (event) => this.touchStart(event);
    this.onTouchMove = (event) => event.cancelable && event.preventDefault();
    this.onTouchEnd = (event) => this.touchEnd(event);
  }

  /** Called by render: the latest match and context, and the loop restarted. */
  update(match, context) {
    this.match = match;
    this.context = context;
    this.setControls(this.live !== null && this.seat() !== null);
    this.help.textContent = this.controlled ? "Steer with the arrow keys or W A S D; on a touch screen, swipe on the arena." : "";
    this.help.hidden = !this.controlled;
    if (this.live) this.start();
    else this.paint(performance.now());
  }

  seat() {
    const seat = this.context.mySeat;
    return seat === null || seat === undefined ? null : seat;
  }

  current() {
    return (this.live && this.live.match) || this.match;
  }

  start() {
    if (this.running) return;
    this.running = true;
    requestAnimationFrame((now) => this.loop(now));
  }

  loop(now) {
    // Gone from the page (a new connection drew its own arena): stop for good.
    if (!this.node.isConnected) {
      this.running = false;
      this.setControls(false);
      return;
    }
    const moving = this.paint(now);
    const match = this.current();
    // A finished match is still: one last frame with every head home, then rest until the next render.
    if (moving || (match && ["waiting", "active"].includes(match.status))) requestAnimationFrame((next) => this.loop(next));
    else this.running = false;
  }

  tickMs() {
    const realtime = this.live && this.live.realtime;
    return (realtime && realtime.tick_ms) || (this.context.game && this.context.game.tick_ms) || DEFAULT_TICK_MS;
  }

  /** The previous tick's state when it is exactly one tick back (else no interpolation). */
  previous(state) {
    const previous = this.live && this.live.previous;
    return previous && previous.tick === state.tick - 1 && previous.grid.length === state.grid.length ? previous : null;
  }

  /** Draw everything for ``now``; true while a head is still on its way. */
  paint(now) {
    const match = this.current();
    if (!match || !match.state || !match.state.grid) return false;
    const state = match.state;
    const size = state.grid.length;
    const previous = this.previous(state);
    const ratio = window.devicePixelRatio || 1;
    const width = Math.min(this.node.clientWidth || LARGEST_PX, LARGEST_PX);
    const cell = Math.max(2, Math.floor((width * ratio) / size));
    const key = `${size}:${cell}`;
    if (key !== this.drawn.key) {
      this.canvas.width = this.canvas.height = this.trails.width = this.trails.height = size * cell;
      this.drawn.state = null;
    }
    if (state !== this.drawn.state || key !== this.drawn.key) this.drawTrails(state, previous, cell);
    this.drawn = { state, key };
    const progress = previous ? Math.min(1, (now - this.live.tickAt) / this.tickMs()) : 1;
    this.ctx.drawImage(this.trails, 0, 0);
    this.drawHeads(state, previous, cell, progress);
    if (match.status === "active" && state.tick === 0) {
      const countdown = this.countdown();
      this.banner(countdown === null ? "GET READY" : `GET READY · ${countdown}`, cell * size);
    }
    this.drawTexts(match, state);
    return progress < 1;
  }

  /** The trails, once per tick: every trail cell except the heads that
   * moved this tick (drawn sliding in by drawHeads). */
  drawTrails(state, previous, cell) {
    const ctx = this.trails.getContext("2d");
    const size = state.grid.length;
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, size * cell, size * cell);
    if (cell >= 8) {
      ctx.fillStyle = GRID_LINE;
      for (let i = 1; i < size; i++) {
        ctx.fillRect(i * cell, 0, 1, size * cell);
        ctx.fillRect(0, i * cell, size * cell, 1);
      }
    }
    const sliding = new Set();
    if (previous) {
      state.cycles.forEach((cycle, seat) => {
        if (cycle.alive && previous.cycles[seat].alive) sliding.add(`${cycle.x},${cycle.y}`);
      });
    }
    state.grid.forEach((row, y) => {
      for (let x = 0; x < row.length; x++) {
        if (row[x] === EMPTY || sliding.has(`${x},${y}`)) continue;
        ctx.fillStyle = TRAILS[Number(row[x])] || "#888";
        ctx.fillRect(x * cell, y * cell, cell, cell);
      }
    });
  }

  drawHeads(state, previous, cell, progress) {
    const ctx = this.ctx;
    state.cycles.forEach((cycle, seat) => {
      if (!cycle.alive) {
        this.cross(cycle.x, cycle.y, cell, COLOURS[seat]);
        return;
      }
      const from = previous && previous.cycles[seat].alive ? previous.cycles[seat] : cycle;
      const x = from.x + (cycle.x - from.x) * progress;
      const y = from.y + (cycle.y - from.y) * progress;
      ctx.fillStyle = TRAILS[seat];
      ctx.fillRect(Math.min(from.x, x) * cell, Math.min(from.y, y) * cell, (Math.abs(x - from.x) + 1) * cell, (Math.abs(y - from.y) + 1) * cell);
      const inset = Math.max(1, Math.floor(cell / 8));
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(x * cell, y * cell, cell, cell);
      ctx.fillStyle = COLOURS[seat];
      ctx.fillRect(x * cell + inset, y * cell + inset, cell - 2 * inset, cell - 2 * inset);
    });
  }

  /** A crashed cycle: crossed out on its last cell. */
  cross(x, y, cell, colour) {
    const ctx = this.ctx;
    const pad = cell * 0.1;
    ctx.lineCap = "round";
    for (const [stroke, width] of [["#ffffff", Math.max(2, cell / 3)], [colour, Math.max(1, cell / 6)]]) {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(x * cell + pad, y * cell + pad);
      ctx.lineTo((x + 1) * cell - pad, (y + 1) * cell - pad);
      ctx.moveTo((x + 1) * cell - pad, y * cell + pad);
      ctx.lineTo(x * cell + pad, (y + 1) * cell - pad);
      ctx.stroke();
    }
  }

  banner(text, side) {
    const ctx = this.ctx;
    ctx.fillStyle = "rgba(11, 16, 32, .6)";
    ctx.fillRect(0, side * 0.4, side, side * 0.2);
    ctx.fillStyle = "#ffffff";
    ctx.font = `bold ${Math.round(side * 0.08)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, side / 2, side / 2);
  }

  /** The seconds before the start, when the snapshot said when it is
   * (``starts_at``, the server's time): null when unknown or implausible
   * (this computer's clock is off). */
  countdown() {
    const realtime = this.live && this.live.realtime;
    const startsAt = realtime && realtime.starts_at ? Date.parse(realtime.starts_at) : NaN;
    if (!Number.isFinite(startsAt)) return null;
    const seconds = Math.ceil((startsAt - Date.now()) / 1000);
    return seconds >= 1 && seconds <= MAX_COUNTDOWN_S ? seconds : null;
  }

  drawTexts(match, state) {
    const seat = this.seat();
    this.text(this.tickText, String(state.tick));
    this.text(this.statusText, statusOf(match, state, seat, this.countdown()));
    const latency = this.live && this.live.latency;
    this.text(this.latencyText, latency === null || latency === undefined ? "–" : `${Math.round(latency)} ms`);
    const seats = match.players.map((p) => p.seat).sort((a, b) => a - b);
    if (this.legend.children.length !== seats.length) {
      this.legend.replaceChildren(...seats.map((s) => h("li", { "data-seat": s }, h("span", { class: `swatch seat${s}` }), h("span", { class: "who" }), h("span", { class: "how" }))));
    }
    [...this.legend.children].forEach((item) => {
      const s = Number(item.dataset.seat);
      const [who, how] = legendText(match, state, s, seat);
      this.text(item.querySelector(".who"), who);
      this.text(item.querySelector(".how"), how);
      item.querySelector(".who").classList.toggle("out", Boolean(how));
    });
  }

  text(element, text) {
    if (this.texts.get(element) === text) return;
    this.texts.set(element, text);
    element.textContent = text;
  }

  // --- controls: the viewer's own cycle only ------------------------------

  setControls(on) {
    if (on === this.controlled) return;
    this.controlled = on;
    const method = on ? "addEventListener" : "removeEventListener";
    document[method]("keydown", this.onKey);
    this.canvas[method]("touchstart", this.onTouchStart, { passive: true });
    this.canvas[method]("touchmove", this.onTouchMove, { passive: false });
    this.canvas[method]("touchend", this.onTouchEnd);
  }

  key(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return; // typing
    const direction = directionOfKey(event);
    if (!direction || !this.steerable()) return;
    event.preventDefault(); // no scrolling with the arrows while playing
    this.steer(direction);
  }

  touchStart(event) {
    const touch = event.changedTouches[0];
    this.touch = touch ? { x: touch.clientX, y: touch.clientY } : null;
  }

  touchEnd(event) {
    const touch = event.changedTouches[0];
    if (!this.touch || !touch) return;
    const direction = directionOfSwipe(touch.clientX - this.touch.x, touch.clientY - this.touch.y);
    this.touch = null;
    if (direction && this.steerable()) this.steer(direction);
  }

  /** Whether the viewer's cycle can take an input now (also in the countdown). */
  steerable() {
    const match = this.current();
    const seat = this.seat();
    return Boolean(match && seat !== null && match.status === "active" && !match.result && match.state.cycles[seat] && match.state.cycles[seat].alive);
  }

  /** Send ``direction`` when it turns the cycle from where it will be heading:
   * the turn sent during this tick (a quick double turn is two inputs), else
   * its queued turn, else its heading. A reversal or no change is not sent,
   * nor more inputs in one tick than the game takes. */
  steer(direction) {
    const state = this.current().state;
    const seat = this.seat();
    const thisTick = this.sentTick === state.tick;
    const heading = thisTick && this.sent ? this.sent : (state.queued && state.queued[seat]) || state.cycles[seat].dir;
    const realtime = this.live && this.live.realtime;
    const most = (realtime && realtime.inputs_per_tick) || INPUTS_PER_TICK;
    if (!turns(heading, direction) || (thisTick && this.sentCount >= most)) return;
    this.sentCount = thisTick ? this.sentCount + 1 : 1;
    this.sent = direction;
    this.sentTick = state.tick;
    (this.context.onMove || (() => {}))({ dir: direction });
  }
}

const arenas = new WeakMap(); // connection -> its arena (one canvas for the life of the page's connection)

/** The board: the same arena for every render of a live match (its canvas
 * keeps animating); a fresh still one for a replay step. */
function render(match, context = {}) {
  const live = context.live || null;
  let arena = live && arenas.get(live);
  if (!arena) {
    arena = new Arena(live);
    if (live) arenas.set(live, arena);
  }
  arena.update(match, context);
  return arena.node;
}

/** An input as players say it (the replay's log shows logged ticks). */
function describeMove(match, seat, move) {
  return move && move.dir ? `${SIDES[seat]} turns ${move.dir}` : JSON.stringify(move);
}

registerBoard("lightcycles", render, { sides: SIDES, describeMove, applyFrame, animated: true });
