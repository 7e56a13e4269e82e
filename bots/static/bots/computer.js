// "Play the computer": pick a game and a level, start a match against the
// bot of that level (POST /api/bots/matches) and go to its page.
import { $, client, GAMES, h, run } from "../games/pages/common.js";

let levels = [];

function showLevel() {
  const chosen = levels.find((level) => String(level.level) === $("level").value);
  $("level-description").textContent = chosen ? `${chosen.name}: ${chosen.description}.` : "";
}

async function loadLevels() {
  ({ levels } = await client.api("GET", "/api/bots"));
  $("level").replaceChildren(...levels.map((level) => h("option", { value: level.level }, `${level.level} · ${level.name}`)));
  showLevel();
}

$("game").replaceChildren(
  ...[...GAMES.values()]
    .filter((game) => game.min_players <= 2 && game.max_players >= 2)
    .map((game) => h("option", { value: game.slug }, game.name)),
);
$("level").onchange = showLevel;

$("computer-form").onsubmit = (event) => {
  event.preventDefault();
  run(async () => {
    if (!client.player) throw new Error("Enter your name first.");
    const seat = Number(document.querySelector("input[name=seat]:checked").value);
    const match = await client.api("POST", "/api/bots/matches", { game: $("game").value, level: Number($("level").value), seat });
    location.href = `/matches/${match.id}/`;
  });
};

run(loadLevels);
