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

  match(id) {
    return new MatchConnection(this, id).open();
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
 * event or presence), "error", "chat", "rematch", "status".
 */
export class MatchConnection extends Connection {
  constructor(client, id) {
    // Protocol 2: each event carries what changed (a patch), not the whole match.
    super(client, `/ws/matches/${id}/`, { protocol: "2" });
    this.id = id;
    this.match = null;
    this.seq = -1;
    this.receivedAt = 0;
    this.pending = new Map();
    this.refs = 0;
  }

  handle(message) {
    super.handle(message);
    if (message.type === "snapshot") {
      this.accept(message.match, message.match.seq);
      this.pending.clear();
      this.emit("change", message);
    } else if (message.type === "event") {
      if (message.seq <= this.seq) return;
      if (message.seq > this.seq + 1) return this.resync();
      // A resync's events (and a join) still carry the whole match.
      this.accept(message.match || applyPatch(structuredClone(this.match), message.patch, message.seq), message.seq);
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
