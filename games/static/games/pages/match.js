import { formatClock } from "../client.js";
import { renderBoard } from "../boards.js";
import { $, client, h, onPlayer, page, run, showError, GAME_NAMES } from "./common.js";

const matchId = Number(page.dataset.match);
let connection = null;

function connect() {
  if (connection) connection.close();
  connection = client.match(matchId);
  window.__match = connection; // for tests and curious developers
  connection.addEventListener("change", draw);
  connection.addEventListener("status", (event) => {
    const labels = { open: "● live", connecting: "connecting…", reconnecting: "reconnecting…", gone: "no such match", closed: "closed" };
    $("connection").textContent = labels[event.detail] || event.detail;
    $("connection").dataset.state = event.detail;
  });
  connection.addEventListener("error", (event) => showError(event.detail.message));
  connection.addEventListener("chat", (event) => {
    const line = event.detail;
    $("chat-lines").append(h("li", {}, h("strong", {}, `${line.name}${line.seat === null ? " (watching)" : ""}: `), line.text));
  });
  connection.addEventListener("rematch", (event) => {
    location.href = `/matches/${event.detail.match.id}/`;
  });
}

function describe(match, mySeat) {
  const name = (seat) => (match.players.find((p) => p.seat === seat) || {}).name || `seat ${seat + 1}`;
  if (match.status === "waiting") return "Waiting for players: share the link.";
  if (match.status === "aborted") return "This match was aborted.";
  if (match.result) {
    const why = match.result.reason.replaceAll("_", " ");
    if (match.result.winner === null) return `Draw (${why}).`;
    return match.result.winner === mySeat ? `You won (${why})!` : `${name(match.result.winner)} won (${why}).`;
  }
  if (mySeat === null) return `Watching. To move: ${match.turn.map(name).join(" and ")}.`;
  if (match.turn.includes(mySeat)) return "Your move.";
  return `Waiting for ${match.turn.map(name).join(" and ")}…`;
}

function draw() {
  const match = connection.match;
  if (!match) return;
  const mySeat = connection.mySeat;
  const active = match.status === "active";
  const pending = connection.pending.size > 0;
  $("title").textContent = `${GAME_NAMES[match.game] || match.game} · match ${match.id}`;
  $("status").textContent = describe(match, mySeat);
  $("pending").hidden = !pending;
  $("share").href = $("share").textContent = `${location.origin}/matches/${match.id}/`;
  const clocks = connection.clocks();
  $("players").replaceChildren(
    ...match.players.map((p) =>
      h("li", { class: p.connected ? "online" : "offline", "data-seat": p.seat },
        `${p.name}${p.seat === mySeat ? " (you)" : ""}`,
        clocks ? h("span", { class: "clock", "data-seat": p.seat }, ` ${formatClock(clocks[p.seat])}`) : null),
    ),
  );
  const seated = mySeat !== null;
  $("take-seat").hidden = !(client.player && !seated && match.status === "waiting");
  $("resign").hidden = !(seated && active);
  $("offer-draw").hidden = !(seated && active && match.draw_offer === null);
  $("accept-draw").hidden = !(seated && active && match.draw_offer !== null && match.draw_offer !== mySeat);
  $("rematch").hidden = !(seated && match.status === "finished");
  $("rematch").disabled = match.rematch.seats.includes(mySeat);
  $("replay-link").hidden = !["finished", "aborted"].includes(match.status);
  $("replay-link").href = `/matches/${match.id}/replay/`;
  renderBoard($("board"), match, {
    mySeat,
    canMove: seated && active && match.turn.includes(mySeat) && !pending,
    onMove: (move) => connection.move(move),
  });
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

$("take-seat").onclick = () => run(() => client.api("POST", `/api/matches/${matchId}/join`));
$("resign").onclick = () => connection.resign();
$("offer-draw").onclick = () => connection.offerDraw();
$("accept-draw").onclick = () => connection.acceptDraw();
$("rematch").onclick = () => connection.rematch();
$("chat-form").onsubmit = (event) => {
  event.preventDefault();
  if ($("chat-text").value.trim()) connection.chat($("chat-text").value);
  $("chat-text").value = "";
};

// Now, and again when the visitor logs in here: the socket opens as that player.
onPlayer(connect);
requestAnimationFrame(tickClocks);
