// A small client for the game backend: plain ES module, no build step.
//
//   import { GameClient } from "/static/games/client.js";
//   const client = GameClient.fromStorage();            // or new GameClient({ token })
//   await client.createGuest("alice");                  // once; kept in sessionStorage
//   const match = client.match(42);
//   match.addEventListener("change", () => draw(match.match, match.pending));
//   match.move({ cell: 4 });
//
// A client acts only as its own player: every call carries its Bearer token
// and never the browser's cookies (which every tab of a browser shares), and
// its sockets authenticate with a ticket of that token; a client with no
// player yet watches, as nobody, whatever cookie the browser holds.
//
// The server is authoritative: nothing is applied locally. A move is "pending"
// until the server's event (or error) for it arrives. Every event carries a
// seq; on a gap the connection asks for a resync, and a dropped socket is
// reopened with exponential backoff and jitter, then caught up by the
// snapshot the server sends first. Pages never have to do anything.
//
// Real-time games (a game with tick_ms in GET /api/games) also get `tick`
// frames: the connection applies each one, in order, to the state it holds,
// with the game's applyFrame (given by the page: see MatchConnection), and
// asks for a snapshot when one is missing. Inputs go with match.input(input).

const STORAGE_KEY = "game-backend-player";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class GameClient {
  constructor({ baseUrl = "", token = null, player = null, storage = null, socketRefusal = null } = {}) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.player = player;
    this.storage = storage;
    // Why this page may not open sockets (its origin is not allowed): the
    // connections then stay "refused" instead of reconnecting forever.
    this.socketRefusal = socketRefusal;
  }

  /** A client remembering its guest player per browser tab. */
  static fromStorage(storage = window.sessionStorage) {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) || "null");
    return new GameClient({ token: saved && saved.token, player: saved && saved.player, storage });
  }

  async api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.baseUrl + path, {
      method,
      headers,
      credentials: "omit", // the token says who this is, never a cookie another tab set
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) {
      const error = data.error || { code: "http_error", message: response.statusText };
      throw new ApiError(response.status, error.code, error.message);
    }
    return data;
  }

  async createGuest(name) {
    const created = await this.api("POST", "/api/players", { name });
    this.token = created.token;
    this.player = { id: created.id, name: created.name };
    if (this.storage) this.storage.setItem(STORAGE_KEY, JSON.stringify({ token: this.token, player: this.player }));
    return this.player;
  }

  /** The URL of a socket: with a fresh single-use ticket when this client
   * has a player, else marked anonymous so no cookie makes it someone. */
  async socketUrl(path, params = {}) {
    const base = this.baseUrl || window.location.origin;
    const query = new URLSearchParams(params);
    if (!this.token) query.set("anonymous", "1");
    else query.set("ticket", (await this.api("POST", "/api/tickets")).ticket);
    return `${base.replace(/^http/, "ws")}${path}?${query}`;
  }

  /** A match's socket. ``options.frames``: for real-time games, a function
   * of the game's slug giving (or promising) its applyFrame(state, frame)
   * (see MatchConnection). */
  match(id, options = {}) {
    return new MatchConnection(this, id, options).open();
  }

  tournament(id) {
    return new FeedConnection(this, `/ws/tournaments/${id}/`).open();
  }

  lobby() {
    return new FeedConnection(this, "/ws/lobby/").open();
  }

  /** The quick-play socket (matchmaking's /ws/queue/). */
  queue() {
    return new FeedConnection(this, "/ws/queue/").open();
  }
}

/**
 * A socket that reopens itself. Events: "status" ({detail: state}: "open",
 * "reconnecting", "gone" (no such match), "closed", or "refused" when the
 * client was told this page's origin may not open sockets), "message".
 */
class Connection extends EventTarget {
  constructor(client, path, params = {}) {
    super();
    this.client = client;
    this.path = path;
    this.params = params;
    this.socket = null;
    this.state = "connecting";
    this.attempts = 0;
    this.closed = false;
    this.maxDelay = 10000;
  }

  open() {
    queueMicrotask(() => this.connect()); // after the caller has added its listeners
    return this;
  }

  close() {
    this.closed = true;
    if (this.socket) this.socket.close();
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: state }));
  }

  async connect() {
    if (this.client.socketRefusal) return this.setState("refused");
    let url;
    try {
      url = await this.client.socketUrl(this.path, this.params);
    } catch (error) {
      return this.retry();
    }
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempts = 0;
      this.setState("open");
    };
    socket.onmessage = (message) => this.handle(JSON.parse(message.data));
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      if (this.closed) return this.setState("closed");
      if (close.code === 4404) return this.setState("gone");
      this.retry();
    };
  }

  retry() {
    this.setState("reconnecting");
    const delay = Math.min(this.maxDelay, 250 * 2 ** this.attempts++) * (0.5 + Math.random() / 2);
    setTimeout(() => this.closed || this.connect(), delay);
  }

  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  handle(message) {
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }
}

/** The tournament and lobby sockets: each message is a whole, newer view. */
class FeedConnection extends Connection {}

/**
 * A match socket. State: `match` (as this player may see it), `seq`,
 * `pending` (moves sent, not yet answered). Events: "change" (snapshot,
 * event or presence), "error", "chat", "rematch", "status", and for a
 * real-time game "tick" (a tick frame was applied: `match.state` moved on).
 *
 * Real-time games: `tick` is the tick the state shows, `previous` the state
 * one tick earlier (null right after a snapshot), `tickAt` when the current
 * tick arrived (performance.now()), `realtime` the last snapshot's
 * { tick_ms, frame_every, inputs_per_tick, epoch, tick, starts_at }
 * (`realtimeAt`: when it came), `latency` the average time in ms from an
 * input sent to the tick frame that applied it (null before the first).
 * Tick frames are applied with `options.frames(slug)`'s function (a promise
 * is waited for; frames are held meanwhile); without one, a frame carrying
 * the whole `state` (the default frame) replaces it.
 *
 * Frames are applied in tick order; a repeated or older one is ignored, as
 * is one from a former owner (a lower epoch). A missing tick, or a new
 * owner when the state shows ticks later than the last logged one, makes
 * the connection ask for a snapshot ({"type": "resync"}) and hold the
 * frames until it comes. A logged event (or a snapshot of the same owner)
 * older than the tick shown never takes the board back.
 */
export class MatchConnection extends Connection {
  constructor(client, id, { frames = null } = {}) {
    // Protocol 2: each event carries what changed (a patch), not the whole match.
    super(client, `/ws/matches/${id}/`, { protocol: "2" });
    this.id = id;
    this.match = null;
    this.seq = -1;
    this.receivedAt = 0;
    this.pending = new Map();
    this.refs = 0;
    this.frames = frames;
    this.applyFrame = null; // the game's, once known
    this.loadingFrames = false;
    this.tick = null; // null until the match shows itself real-time (a snapshot's "realtime", a tick frame)
    this.epoch = -1; // the highest owner epoch seen
    this.stateEpoch = -1; // the epoch of the owner whose ticks the state holds (-1: unknown)
    this.loggedTick = 0; // the last tick a logged event showed (the history every owner shares)
    this.realtime = null;
    this.realtimeAt = 0;
    this.previous = null;
    this.tickAt = 0;
    this.held = []; // tick frames waiting for a snapshot, or for applyFrame
    this.resyncing = false;
    this.resyncTimer = null;
    this.lastResync = -Infinity;
    this.inputs = []; // inputs sent, not yet seen applied: { key, at }
    this.latency = null;
  }

  handle(message) {
    super.handle(message);
    if (message.type === "snapshot") {
      this.onSnapshot(message);
    } else if (message.type === "tick") {
      this.onTick(message);
    } else if (message.type === "event") {
      if (message.seq <= this.seq) return;
      if (message.seq > this.seq + 1) return this.resync();
      if (this.tick !== null) this.acceptRealtimeEvent(message);
      // A resync's events (and a join) still carry the whole match.
      else this.accept(message.match || applyPatch(structuredClone(this.match), message.patch, message.seq), message.seq);
      if (message.ref !== undefined) this.pending.delete(message.ref);
      this.emit("change", message);
    } else if (message.type === "presence") {
      if (message.seq > this.seq) return this.resync();
      const player = this.match && this.match.players.find((p) => p.seat === message.seat);
      if (player) player.connected = message.connected;
      this.emit("change", message);
    } else if (message.type === "error") {
      // A refusal answers the action with that ref: it is no longer pending,
      // so the board is released (redrawn) as well as the error shown.
      this.pending.delete(message.ref);
      this.emit("error", message);
      this.emit("change", message);
    } else {
      this.emit(message.type, message);
    }
  }

  accept(match, seq) {
    this.match = match;
    this.seq = seq;
    this.receivedAt = performance.now();
  }

  onSnapshot(message) {
    const match = message.match;
    const realtime = message.realtime || match.realtime || null;
    if (realtime || this.tick !== null) {
      const tick = realtime && Number.isInteger(realtime.tick) ? realtime.tick : tickOf(match);
      const epoch = realtime && Number.isInteger(realtime.epoch) ? realtime.epoch : -1;
      // Frames that arrived before it may already have taken the state
      // further: an older snapshot of the same owner does not roll it back.
      const older = match.status === "active" && this.tick !== null && tick < this.tick && epoch <= this.stateEpoch;
      if (older) match.state = this.match.state;
      else this.moveTo(tick, epoch, null);
      this.epoch = Math.max(this.epoch, epoch);
      if (realtime) {
        this.realtime = realtime;
        this.realtimeAt = performance.now(); // what its figures in ms count from
      }
    }
    this.endResync();
    this.accept(match, match.seq);
    this.pending.clear();
    this.emit("change", message);
    this.drain();
  }

  /** A logged event of a real-time match: what it changed besides the
   * state, and its state only when it is ahead of the ticks shown (the
   * event comes after the tick frames it logs: the board is not rolled back). */
  acceptRealtimeEvent(message) {
    const shown = this.match.state;
    let state;
    let whole = false;
    let next;
    if (message.match) {
      next = message.match;
      state = next.state;
      whole = true;
    } else {
      const stateOps = message.patch.filter(([pointer]) => pointer === "/state" || pointer.startsWith("/state/"));
      const others = message.patch.filter(([pointer]) => !(pointer === "/state" || pointer.startsWith("/state/")));
      next = applyPatch(structuredClone({ ...this.match, state: null }), others, message.seq);
      const replaced = stateOps.find(([pointer]) => pointer === "/state");
      const tickOp = stateOps.find(([pointer]) => pointer === "/state/tick");
      if (replaced) [, state] = replaced;
      else if (tickOp) state = { tick: tickOp[1] };
      whole = Boolean(replaced);
    }
    const tick = state && Number.isInteger(state.tick) ? state.tick : null;
    if (tick !== null) this.loggedTick = Math.max(this.loggedTick, tick);
    if (tick !== null && tick >= this.tick && whole) {
      next.state = state; // the same tick's state is the same (or, before the start, the one of the seats taken)
      if (tick > this.tick) this.moveTo(tick, this.stateEpoch, null);
    } else {
      next.state = shown;
      // Ahead of the frames, but only what changed since the last logged tick: ask for the whole.
      if (tick !== null && tick > this.tick) this.askSnapshot();
    }
    this.accept(next, message.seq);
  }

  onTick(frame) {
    if (!Number.isInteger(frame.tick) || frame.epoch < this.epoch) return; // a former owner's, late
    frame.receivedAt = performance.now();
    this.epoch = Math.max(this.epoch, frame.epoch);
    if (this.tick !== null && frame.tick <= this.tick && frame.epoch === this.stateEpoch) return;
    this.held.push(frame);
    if (this.held.length > MAX_HELD) this.held.shift();
    this.drain();
  }

  /** Apply the held frames that follow the state, in order; on a gap (or a
   * new owner, whose history may differ by a lost input) ask for a snapshot. */
  drain() {
    if (!this.match || this.resyncing || !this.held.length) return;
    if (!this.applyFrame) return this.loadFrames();
    if (this.tick === null) this.tick = tickOf(this.match);
    const step = (this.realtime && this.realtime.frame_every) || 1;
    this.held = this.held.filter((frame) => frame.epoch >= this.epoch).sort((a, b) => a.tick - b.tick);
    while (this.held.length) {
      const frame = this.held[0];
      if (this.stateEpoch >= 0 && frame.epoch !== this.stateEpoch) {
        // A new owner resumes from the log: ticks shown since the last logged
        // one may hold an input that never reached it, so take its state.
        if (this.tick > this.loggedTick) return this.askSnapshot();
        this.stateEpoch = frame.epoch;
      }
      if (frame.tick <= this.tick) {
        this.held.shift();
        continue;
      }
      // A frame says which tick its changes start from (`since`; a server
      // before it: at most frame_every ticks back): any other is a gap.
      const follows = frame.since === undefined ? frame.tick <= this.tick + step : frame.since === this.tick;
      if (!follows) return this.askSnapshot();
      this.held.shift();
      this.applyTick(frame);
    }
  }

  applyTick(frame) {
    const before = this.match.state;
    let after;
    try {
      after = this.applyFrame(before, frame.frame, this.match);
    } catch (error) {
      console.warn("a tick frame could not be applied", error);
      return this.askSnapshot();
    }
    this.match.state = after;
    this.moveTo(frame.tick, frame.epoch, before);
    this.measure(frame);
    this.emit("tick", frame);
  }

  moveTo(tick, epoch, previous) {
    this.tick = tick;
    this.stateEpoch = epoch;
    this.previous = previous;
    this.tickAt = performance.now();
  }

  /** The game's applyFrame, asked for once (frames wait meanwhile). */
  loadFrames() {
    if (this.loadingFrames) return;
    this.loadingFrames = true;
    Promise.resolve(this.frames ? this.frames(this.match.game) : null)
      .catch((error) => {
        console.warn(error);
        return null;
      })
      .then((applyFrame) => {
        this.applyFrame = applyFrame || wholeStateFrame;
        this.drain();
      });
  }

  /** Ask the server for a snapshot (once at a time, at most once a second). */
  askSnapshot() {
    if (this.resyncing) return;
    this.resyncing = true;
    const wait = Math.max(0, this.lastResync + RESYNC_EVERY_MS - performance.now());
    this.resyncTimer = setTimeout(() => {
      this.lastResync = performance.now();
      this.send({ type: "resync" }); // a closed socket gets its snapshot when it reopens
      // No snapshot (refused, or lost): free to ask again when the next frame shows the gap.
      this.resyncTimer = setTimeout(() => {
        this.resyncing = false;
        this.drain();
      }, SNAPSHOT_WAIT_MS);
    }, wait);
  }

  endResync() {
    clearTimeout(this.resyncTimer);
    this.resyncing = false;
  }

  /** The input-to-screen time: from sending an input to the frame of the tick that applied it. */
  measure(frame) {
    const now = frame.receivedAt;
    this.inputs = this.inputs.filter((sent) => now - sent.at < INPUT_FORGOTTEN_MS);
    if (!frame.applied || !this.inputs.length) return;
    const seat = this.mySeat;
    for (const [applied, input] of frame.applied) {
      if (applied !== seat) continue;
      const index = this.inputs.findIndex((sent) => sent.key === JSON.stringify(input));
      if (index < 0) continue;
      const sample = now - this.inputs[index].at;
      this.inputs.splice(0, index + 1); // earlier ones were lost or refused
      this.latency = this.latency === null ? sample : this.latency + LATENCY_WEIGHT * (sample - this.latency);
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get mySeat() {
    const me = this.client.player;
    const mine = me && this.match && this.match.players.find((p) => p.id === me.id);
    return mine ? mine.seat : null;
  }

  act(message) {
    const ref = `r${++this.refs}`;
    if (this.send({ ...message, ref })) this.pending.set(ref, message);
    this.emit("change", { type: "pending" });
    return ref;
  }

  move(move) {
    return this.act({ type: "move", move, seq: this.seq });
  }

  /** A real-time game's input (applied at the next tick the server runs;
   * nothing pending: the tick frames show it). False when the socket is not open. */
  input(input) {
    const sent = this.send({ type: "input", input, tick: this.tick === null ? 0 : this.tick });
    if (sent) this.inputs.push({ key: JSON.stringify(input), at: performance.now() });
    return sent;
  }

  resign() {
    return this.act({ type: "resign" });
  }

  offerDraw() {
    return this.act({ type: "offer_draw" });
  }

  acceptDraw() {
    return this.act({ type: "accept_draw" });
  }

  rematch() {
    return this.act({ type: "rematch" });
  }

  chat(text) {
    return this.send({ type: "chat", text });
  }

  resync() {
    this.send({ type: "resync", after: Math.max(0, this.seq) });
  }

  /** Milliseconds left per seat now, ticking locally from the server's figures. */
  clocks(now = performance.now()) {
    const clock = this.match && this.match.clock;
    if (!clock) return null;
    const elapsed = now - this.receivedAt;
    return clock.remaining.map((ms, seat) => (clock.running.includes(seat) ? Math.max(0, ms - elapsed) : ms));
  }
}

const MAX_HELD = 400; // tick frames held while a snapshot is on its way (20 s at 20 Hz)
const RESYNC_EVERY_MS = 1000;
const SNAPSHOT_WAIT_MS = 3000;
const INPUT_FORGOTTEN_MS = 5000;
const LATENCY_WEIGHT = 0.2;

const tickOf = (match) => (match && match.state && Number.isInteger(match.state.tick) ? match.state.tick : 0);

/** The state after a default tick frame ({"state": the whole state}). */
export function wholeStateFrame(state, frame) {
  if (!frame || typeof frame.state !== "object") throw new Error("this game's tick frames need its applyFrame");
  return frame.state;
}

/**
 * The match after a protocol 2 event: each operation is [pointer, value]
 * (set; a pointer ending in "/-" appends to an array) or [pointer] (remove),
 * pointers as in RFC 6901; the match's seq is the event's.
 */
export function applyPatch(match, patch, seq) {
  for (const [pointer, ...value] of patch) {
    const tokens = pointer.split("/").slice(1).map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = tokens.pop();
    const target = tokens.reduce((node, token) => node[token], match);
    if (!value.length) {
      if (Array.isArray(target)) target.splice(Number(last), 1);
      else delete target[last];
    } else if (Array.isArray(target) && last === "-") target.push(value[0]);
    else target[last] = value[0];
  }
  match.seq = seq;
  return match;
}

export function formatClock(ms) {
  const total = Math.ceil(ms / 1000);
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, "0")}`;
}
