import { $, client, gameName, GAMES, h, playerLink, run } from "./common.js";

function showGames() {
  $("game").replaceChildren(...[...GAMES.values()].map((game) => h("option", { value: game.slug }, game.name)));
}

function options() {
  const chosen = {};
  const minutes = Number($("clock-minutes").value);
  if (minutes > 0) chosen.clock = { initial: minutes * 60, increment: Number($("clock-increment").value) || 0 };
  const perMove = Number($("move-timeout").value);
  if (perMove > 0) chosen.move_timeout = perMove;
  if ($("rated").checked) chosen.rated = true;
  return chosen;
}

$("create-form").onsubmit = (event) => {
  event.preventDefault();
  run(async () => {
    if (!client.player) throw new Error("Enter your name first.");
    const match = await client.api("POST", "/api/matches", { game: $("game").value, options: options() });
    location.href = `/matches/${match.id}/`;
  });
};

function describeOptions(options) {
  const parts = [];
  if (options.clock) parts.push(`${options.clock.initial / 60} min + ${options.clock.increment} s`);
  if (options.move_timeout) parts.push(`${options.move_timeout} s per move`);
  if (options.rated) parts.push("rated");
  return parts.join(", ");
}

function showOpenMatches(matches) {
  $("no-matches").hidden = matches.length > 0;
  $("open-matches").replaceChildren(
    ...matches.map((match) => {
      const host = match.players[0] ? match.players[0].name : "someone";
      const hostLink = match.players[0] ? playerLink(match.players[0]) : "someone";
      const join = h("button", { type: "button", "aria-label": `Join ${host}'s ${gameName(match.game)}` }, "Join");
      join.onclick = () =>
        run(async () => {
          if (!client.player) throw new Error("Enter your name first.");
          await client.api("POST", `/api/matches/${match.id}/join`);
          location.href = `/matches/${match.id}/`;
        });
      const extras = describeOptions(match.options);
      return h("li", { "data-match": match.id }, `${gameName(match.game)} with `, hostLink, `${extras ? ` (${extras})` : ""} `, join, " ",
        h("a", { href: `/matches/${match.id}/` }, "watch"));
    }),
  );
}

async function loadTournaments() {
  let tournaments;
  try {
    ({ tournaments } = await client.api("GET", "/api/tournaments"));
  } catch (error) {
    if (error.code === "not_found") return; // no tournaments app installed: the section stays hidden
    throw error;
  }
  $("tournaments-section").hidden = false;
  $("tournaments").replaceChildren(
    ...tournaments.map((t) => h("li", {}, h("a", { href: `/tournaments/${t.id}/` }, t.name), ` · ${gameName(t.game)} · ${t.status} · ${t.confirmed}/${t.capacity}${t.entry_fee ? ` · ${(t.entry_fee / 100).toFixed(2)} ${t.currency.toUpperCase()}` : " · free"}`)),
  );
  if (!tournaments.length) $("tournaments").replaceChildren(h("li", {}, "None yet."));
}

const lobby = client.lobby();
lobby.addEventListener("message", (event) => {
  if (event.detail.type === "lobby") showOpenMatches(event.detail.matches);
});
lobby.addEventListener("status", (event) => {
  $("lobby-status").textContent = event.detail === "open" ? "(live)" : `(${event.detail})`;
});
showGames();
run(loadTournaments);
