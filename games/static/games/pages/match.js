import { formatClock } from "../client.js";
import { boardReady, frameApplier, isAnimated, loadBoard, renderBoard, sideOf } from "../boards.js";
import { $, client, formatChange, formatRating, gameName, GAMES, h, onPlayer, page, playerLink, poolName, run, showError } from "./common.js";

const matchId = Number(page.dataset.match);
const LABELS = { open: "● live", connecting: "connecting…", reconnecting: "reconnecting…", gone: "no such match", closed: "closed", refused: "not connected" };
let connection = null;
let loadingBoard = false;
// A rated match's pool and its players' ratings before it ends (GET /api/ratings?match=),
// fetched again when the players change; at the end the result's own ratings replace them.
let ratings = null;
let ratingsFor = "";

function connect() {
  if (connection) connection.close();
  // A real-time game's tick frames are applied with its board script's applyFrame.
  const current = client.match(matchId, { frames: (slug) => loadBoard(slug).then(() => frameApplier(slug)) });
  connection = current;
  window.__match = current; // for tests and curious developers
  showConnection(current.state);
  // Only the current connection speaks: a closing one (the tab's player just
  // changed) must not repaint the page.
  const on = (type, handle) => current.addEventListener(type, (event) => current === connection && handle(event.detail));
  on("change", draw);
  // A board that animates itself reads the ticks on its own; any other is drawn again.
  on("tick", () => current.match && !isAnimated(current.match.game) && drawBoard(current.match, current.mySeat));
  on("status", showConnection);
  on("error", (error) => showError(error.message));
  on("chat", (line) => {
    $("chat-lines").append(h("li", {}, h("strong", {}, `${line.name}${line.seat === null ? " (watching)" : ""}: `), line.text));
  });
  on("rematch", (rematch) => {
    location.href = `/matches/${rematch.match.id}/`;
  });
}

function showConnection(state) {
  $("connection").textContent = LABELS[state] || state;
  $("connection").dataset.state = state;
}

/** Whether ``match``'s game is real-time (it has a tick rate). */
const isRealtime = (match) => Boolean(GAMES.has(match.game) && GAMES.get(match.game).tick_ms);

const nameOf = (match, seat) => (match.players.find((p) => p.seat === seat) || {}).name || `seat ${seat + 1}`;
const others = (match, mySeat) => match.players.filter((p) => p.seat !== mySeat).map((p) => p.name).join(" and ");

function describe(match, mySeat) {
  const name = (seat) => nameOf(match, seat);
  if (match.status === "waiting") return "Waiting for players: share the link.";
  if (match.status === "aborted") return "This match was aborted.";
  if (match.result) {
    const why = match.result.reason.replaceAll("_", " ");
    if (match.result.winner === null) return `Draw (${why}).`;
    return match.result.winner === mySeat ? `You won (${why})!` : `${name(match.result.winner)} won (${why}).`;
  }
  if (isRealtime(match)) return mySeat === null ? "Watching." : "Playing: steer with the arrow keys or WASD (swipe on a touch screen).";
  if (mySeat === null) return `Watching. To move: ${match.turn.map(name).join(" and ")}.`;
  if (match.turn.includes(mySeat)) return "Your move.";
  return `Waiting for ${match.turn.map(name).join(" and ")}…`;
}

/** What stands between the players: a draw offer, or rematch requests. */
function notice(match, mySeat) {
  const offer = match.draw_offer;
  if (match.status === "active" && offer !== null) {
    if (offer === mySeat) return `You offered a draw. It stands until ${others(match, mySeat)} accepts it or makes a move (a move declines it).`;
    if (mySeat === null) return `${nameOf(match, offer)} offers a draw.`;
    return `${nameOf(match, offer)} offers a draw: press "Accept the draw" to end the game drawn, or make your move to decline it.`;
  }
  const asked = match.rematch.seats;
  if (match.status !== "finished" || !asked.length || match.rematch.match) return "";
  const names = asked.map((seat) => nameOf(match, seat)).join(" and ");
  if (asked.includes(mySeat)) return `You asked for a rematch; waiting for ${match.players.filter((p) => !asked.includes(p.seat)).map((p) => p.name).join(" and ")}.`;
  if (mySeat === null) return `${names} asked for a rematch.`;
  return `${names} asked for a rematch: press "Rematch" to play again.`;
}

function show(id, text) {
  $(id).textContent = text;
  $(id).hidden = !text;
}

function loadRatings(match) {
  if (!match.options.rated) return;
  const players = match.players.map((p) => p.id).join(",");
  if (players === ratingsFor) return;
  ratingsFor = players;
  client.api("GET", `/api/ratings?match=${match.id}`).then((answer) => {
    ratings = { pool: answer.pool, byPlayer: new Map(answer.ratings.map((line) => [line.player, line])) };
    draw();
  }).catch((error) => {
    if (error.code !== "not_found") showError(error.message);
  });
}

/** The rating beside a player's name: before a rated match ends their
 * current one, after it the new one with the change; nothing when casual. */
function ratingOf(match, player) {
  const ended = match.result && match.result.ratings && match.result.ratings.find((line) => line.player === player.id);
  if (ended) return h("span", { class: "rating", "data-player": player.id }, ` (${formatRating(ended.after, ended.provisional)}, ${formatChange(ended.change)})`);
  const current = match.options.rated && ratings && ratings.byPlayer.get(player.id);
  return current ? h("span", { class: "rating", "data-player": player.id }, ` (${formatRating(current.rating, current.provisional)})`) : null;
}

function drawPlayers(match, mySeat) {
  const clocks = connection.clocks();
  $("players").replaceChildren(
    ...match.players.map((p) => {
      const side = sideOf(match.game, p.seat);
      return h("li", { class: p.connected ? "online" : "offline", "data-seat": p.seat },
        playerLink(p), ratingOf(match, p),
        `${side ? ` · ${side}` : ""}${p.seat === mySeat ? " (you)" : ""}`,
        clocks ? h("span", { class: "clock", "data-seat": p.seat }, ` ${formatClock(clocks[p.seat])}`) : null);
    }),
  );
}

/** Whether the match is rated (and in which pool), and at its end what it did to each rating. */
function drawRatings(match) {
  const lines = (match.result && match.result.ratings) || [];
  const pool = lines.length ? lines[0].pool : ratings && ratings.pool;
  show("rated", match.options.rated ? `Rated${pool ? ` · ${poolName(pool)}` : ""}` : "");
  $("rating-changes").replaceChildren(...lines.flatMap((line, i) => [
    i ? "; " : "Rating changes: ",
    `${nameOf(match, line.seat)} ${formatRating(line.before)} → ${formatRating(line.after, line.provisional)} `,
    h("span", { class: line.change >= 0 ? "up" : "down" }, `(${formatChange(line.change)})`),
  ]));
  $("rating-changes").hidden = !lines.length;
}

function drawActions(match, mySeat) {
  const seated = mySeat !== null;
  const active = match.status === "active";
  $("take-seat").hidden = !(client.player && !seated && match.status === "waiting");
  $("resign").hidden = !(seated && active);
  const drawOffers = GAMES.has(match.game) && GAMES.get(match.game).allows_draw_offers;
  $("offer-draw").hidden = !(seated && active && drawOffers && match.draw_offer === null);
  $("accept-draw").hidden = !(seated && active && match.draw_offer !== null && match.draw_offer !== mySeat);
  $("rematch").hidden = !(seated && match.status === "finished");
  $("rematch").disabled = match.rematch.seats.includes(mySeat);
  $("replay-link").hidden = !["finished", "aborted"].includes(match.status);
  $("replay-link").href = `/matches/${match.id}/replay/`;
}

function draw() {
  const match = connection.match;
  if (!match) return;
  // The game's board script brings its sides and board: draw again once it is here.
  if (!boardReady(match.game) && !loadingBoard) {
    loadingBoard = true;
    loadBoard(match.game).then(draw);
  }
  const mySeat = connection.mySeat;
  const pending = connection.pending.size > 0;
  const side = mySeat === null ? null : sideOf(match.game, mySeat);
  $("title").textContent = `${gameName(match.game)} · match ${match.id}`;
  $("status").textContent = describe(match, mySeat);
  show("side", side ? `You ${match.result || match.status === "aborted" ? "played" : "play"} ${side}.` : "");
  show("notice", notice(match, mySeat));
  $("pending").hidden = !pending;
  loadRatings(match);
  drawPlayers(match, mySeat);
  drawRatings(match);
  drawActions(match, mySeat);
  drawBoard(match, mySeat);
}

function drawBoard(match, mySeat) {
  const pending = connection.pending.size > 0;
  const realtime = isRealtime(match);
  renderBoard($("board"), match, {
    mySeat,
    pending,
    canMove: mySeat !== null && match.status === "active" && match.turn.includes(mySeat) && !pending,
    // A real-time game takes inputs, applied at the next tick: nothing is pending.
    onMove: realtime ? (input) => connection.input(input) : (move) => act(() => connection.move(move)),
    live: realtime ? connection : null,
  });
}

/** Send an action: the last refusal's message goes, the next one may come. */
function act(send) {
  showError("");
  send();
}

function tickClocks() {
  const clocks = connection && connection.clocks();
  if (clocks) {
    document.querySelectorAll(".clock").forEach((element) => {
      element.textContent = ` ${formatClock(clocks[Number(element.dataset.seat)])}`;
    });
  }
  requestAnimationFrame(tickClocks);
}

function showChat(player) {
  $("chat-form").hidden = !player;
  $("chat-needs-name").hidden = Boolean(player);
}

$("share").href = $("share").textContent = `${location.origin}/matches/${matchId}/`;
$("take-seat").onclick = () => run(() => client.api("POST", `/api/matches/${matchId}/join`));
$("resign").onclick = () => act(() => connection.resign());
$("offer-draw").onclick = () => act(() => connection.offerDraw());
$("accept-draw").onclick = () => act(() => connection.acceptDraw());
$("rematch").onclick = () => act(() => connection.rematch());
$("chat-form").onsubmit = (event) => {
  event.preventDefault();
  if ($("chat-text").value.trim()) connection.chat($("chat-text").value);
  $("chat-text").value = "";
};

// Now, and again when the visitor enters a name here: the socket opens as
// this tab's player, or as nobody until there is one.
onPlayer((player) => {
  showChat(player);
  connect();
});
requestAnimationFrame(tickClocks);
