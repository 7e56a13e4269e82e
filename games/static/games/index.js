// The first page: one tab = one guest player (its token lives in sessionStorage,
// so two windows of the same browser are two players). The server is
// authoritative: the board changes only when the server's event arrives.
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("token");
let me = JSON.parse(sessionStorage.getItem("player") || "null");
let socket = null;
let match = null;
let lastSeq = -1;
let pendingCell = null;
let retries = 0;

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? `${data.error.code}: ${data.error.message}` : response.statusText);
  return data;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function showPlayer() {
  $("name-form").hidden = Boolean(me);
  $("hello").hidden = !me;
  $("lobby").hidden = !me;
  if (me) $("hello").textContent = `Playing as ${me.name}`;
}

async function openMatch(matchId) {
  const { ticket } = await api("POST", "/api/tickets");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/matches/${matchId}/?ticket=${encodeURIComponent(ticket)}`);
  socket.onopen = () => { retries = 0; };
  socket.onmessage = (message) => onServerMessage(JSON.parse(message.data));
  socket.onclose = (close) => {
    if (close.code === 4404) return showError(`There is no match ${matchId}.`);
    const delay = Math.min(10000, 500 * 2 ** retries++) * (0.5 + Math.random() / 2);
    setTimeout(() => openMatch(matchId).catch((e) => showError(e.message)), delay);
  };
}

function onServerMessage(message) {
  if (message.type === "snapshot") {
    lastSeq = message.match.seq;
    render(message.match);
  } else if (message.type === "event") {
    if (message.seq > lastSeq + 1) return socket.send(JSON.stringify({ type: "resync", after: lastSeq }));
    if (message.seq <= lastSeq) return;
    lastSeq = message.seq;
    render(message.match);
  } else if (message.type === "presence") {
    const player = match && match.players.find((p) => p.seat === message.seat);
    if (player) { player.connected = message.connected; render(match); }
  } else if (message.type === "error") {
    pendingCell = null;
    showError(message.message);
    render(match);
  }
}

function render(next) {
  match = next;
  pendingCell = null;
  $("lobby").hidden = true;
  $("match").hidden = false;
  $("match-number").textContent = match.id;
  const link = `${location.origin}/?match=${match.id}`;
  $("share").href = link;
  $("share").textContent = link;
  const mySeat = (match.players.find((p) => me && p.id === me.id) || {}).seat;
  const myTurn = match.turn.includes(mySeat);
  const board = $("board");
  board.replaceChildren(...match.state.board.map((mark, cell) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = mark || "";
    button.setAttribute("aria-label", `Cell ${cell + 1}: ${mark || "empty"}`);
    button.disabled = !myTurn || mark !== null;
    button.onclick = () => play(cell, button);
    return button;
  }));
  $("players").replaceChildren(...match.players.map((p) => {
    const item = document.createElement("li");
    item.className = p.connected ? "online" : "offline";
    item.textContent = `${"XO"[p.seat]} ${p.name}${me && p.id === me.id ? " (you)" : ""}`;
    return item;
  }));
  $("status").textContent = describe(match, mySeat, myTurn);
  $("take-seat").hidden = !(me && match.status === "waiting" && mySeat === undefined);
}

function describe(m, mySeat, myTurn) {
  if (m.status === "waiting") return "Waiting for an opponent: send them the link.";
  if (m.result) {
    if (m.result.winner === null) return "Draw.";
    return m.result.winner === mySeat ? "You won!" : `${m.players[m.result.winner].name} won.`;
  }
  if (mySeat === undefined) return "You are watching.";
  return myTurn ? "Your move." : "Waiting for your opponent's move…";
}

function play(cell, button) {
  if (!socket || socket.readyState !== WebSocket.OPEN || pendingCell !== null) return;
  pendingCell = cell;
  button.classList.add("pending");
  button.textContent = "…";
  showError("");
  socket.send(JSON.stringify({ type: "move", move: { cell }, seq: lastSeq, ref: `cell-${cell}` }));
}

async function run(action) {
  try { showError(""); await action(); } catch (error) { showError(error.message); }
}

$("name-form").onsubmit = (e) => {
  e.preventDefault();
  run(async () => {
    const player = await api("POST", "/api/players", { name: $("name").value });
    token = player.token;
    me = { id: player.id, name: player.name };
    sessionStorage.setItem("token", token);
    sessionStorage.setItem("player", JSON.stringify(me));
    showPlayer();
  });
};

$("create").onclick = () => run(async () => {
  const created = await api("POST", "/api/matches", { game: "tictactoe" });
  history.replaceState(null, "", `/?match=${created.id}`);
  await openMatch(created.id);
});

$("take-seat").onclick = () => run(() => api("POST", `/api/matches/${match.id}/join`));

$("join-form").onsubmit = (e) => {
  e.preventDefault();
  run(async () => {
    const id = Number($("match-id").value);
    await api("POST", `/api/matches/${id}/join`);
    history.replaceState(null, "", `/?match=${id}`);
    await openMatch(id);
  });
};

showPlayer();
const linked = new URLSearchParams(location.search).get("match");
if (linked) $("match-id").value = linked;
if (linked && me) run(() => openMatch(Number(linked)));
