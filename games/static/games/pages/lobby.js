import { $, client, gameName, GAMES, h, playerLink, run } from "./common.js";

function showGames() {
  $("game").replaceChildren(...[...GAMES.values()].map((game) => h("option", { value: game.slug }, game.name)));
  $("game").onchange = showGameOptions;
  showGameOptions();
}

// The chosen game's own whole-number options (light cycles' grid size), from
// its options_schema, with their bounds and default.
const wholeNumbers = (game) =>
  Object.entries((game.options_schema || {}).properties || {}).filter(([, property]) => property.type === "integer");

// The fields of the chosen game: how many players when it takes a range,
// its own number options, and the clock and move timeout unless the game is
// real-time (its ticks are the clock: the server refuses both).
function showGameOptions() {
  const game = GAMES.get($("game").value);
  if (!game) return;
  const fields = [];
  if (game.max_players > game.min_players) {
    const counts = [];
    for (let n = game.min_players; n <= game.max_players; n += 1) counts.push(h("option", { value: n }, String(n)));
    fields.push(h("label", { for: "seats" }, "Players"), h("select", { id: "seats" }, ...counts));
  }
  for (const [name, property] of wholeNumbers(game)) {
    fields.push(
      h("label", { for: `option-${name}` }, property.title || name),
      h("input", { id: `option-${name}`, type: "number", step: "1", inputmode: "numeric", min: property.minimum,
        max: property.maximum, value: property.default }),
    );
  }
  $("game-options").replaceChildren(...fields);
  $("time-options").hidden = Boolean(game.tick_ms);
}

function options() {
  const chosen = {};
  const game = GAMES.get($("game").value);
  for (const [name] of game ? wholeNumbers(game) : []) {
    const value = $(`option-${name}`).value;
    if (value !== "") chosen[name] = Number(value);
  }
  if (!$("time-options").hidden) {
    const minutes = Number($("clock-minutes").value);
    if (minutes > 0) chosen.clock = { initial: minutes * 60, increment: Number($("clock-increment").value) || 0 };
    const perMove = Number($("move-timeout").value);
    if (perMove > 0) chosen.move_timeout = perMove;
  }
  if ($("rated").checked) chosen.rated = true;
  return chosen;
}

$("create-form").onsubmit = (event) => {
  event.preventDefault();
  run(async () => {
    if (!client.player) throw new Error("Enter your name first.");
    const body = { game: $("game").value, options: options() };
    if (document.getElementById("seats")) body.seats = Number($("seats").value);
    const match = await client.api("POST", "/api/matches", body);
    location.href = `/matches/${match.id}/`;
  });
};

function describeOptions(match) {
  const { options } = match;
  const game = GAMES.get(match.game);
  const parts = game && game.max_players > game.min_players ? [`${match.seats} players`] : [];
  for (const [name, property] of game ? wholeNumbers(game) : []) {
    if (name in options) parts.push(`${(property.title || name).toLowerCase()} ${options[name]}`);
  }
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
      const extras = describeOptions(match);
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
