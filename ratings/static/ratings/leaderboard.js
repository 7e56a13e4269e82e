import { $, client, formatRating, h, onPlayer, page, playerLink, poolName, run } from "../games/pages/common.js";

const pool = page.dataset.pool;
const limit = new URLSearchParams(location.search).get("limit");

function row(player, mine) {
  return h("tr", { class: mine ? "me" : null, "data-player": player.id },
    h("td", { class: "number" }, String(player.rank)),
    h("td", {}, playerLink(player), player.bot ? h("span", { class: "bot" }, "bot") : null),
    h("td", { class: "number" }, formatRating(player.rating)),
    h("td", { class: "number" }, String(player.games)));
}

function table(element, players, myId) {
  element.replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { class: "number" }, "Rank"), h("th", {}, "Player"),
      h("th", { class: "number" }, "Rating"), h("th", { class: "number" }, "Games"))),
    h("tbody", {}, ...players.map((player) => row(player, player.id === myId))),
  );
}

async function load() {
  const board = await client.api("GET", `/api/leaderboards/${pool}${limit ? `?limit=${encodeURIComponent(limit)}` : ""}`);
  const myId = client.player ? client.player.id : null;
  $("title").textContent = `Leaderboard · ${poolName(board.pool)}`;
  $("empty").hidden = board.players.length > 0;
  $("board").hidden = board.players.length === 0;
  table($("board"), board.players, myId);
  $("me-section").hidden = !client.player;
  if (!board.me) {
    $("me-summary").textContent = "You are not on this leaderboard yet: your rating here is provisional until you have played about a dozen rated games, or you have none.";
    $("me").replaceChildren();
    return;
  }
  $("me-summary").textContent = `You are number ${board.me.rank} with ${formatRating(board.me.rating)}.`;
  table($("me"), [...board.me.above, board.me, ...board.me.below], myId);
}

onPlayer(() => run(load));
