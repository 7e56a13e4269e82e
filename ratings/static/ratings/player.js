import { $, client, formatChange, formatRating, gameName, h, page, playerLink, poolName, run } from "../games/pages/common.js";

const playerId = Number(page.dataset.player);

function outcome(match, seat) {
  if (match.status === "aborted") return "aborted";
  if (!match.result) return match.status;
  if (match.result.winner === null) return "draw";
  return match.result.winner === seat ? "won" : "lost";
}

function ratingsTable(ratings) {
  $("no-ratings").hidden = ratings.length > 0;
  $("ratings").hidden = ratings.length === 0;
  $("ratings").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", {}, "Pool"), h("th", { class: "number" }, "Rating"), h("th", { class: "number" }, "Rank"),
      h("th", { class: "number" }, "Games"), h("th", {}, "Won / drawn / lost"))),
    h("tbody", {}, ...ratings.map((rating) =>
      h("tr", { "data-pool": rating.pool },
        h("td", {}, h("a", { href: `/leaderboards/${rating.pool}/` }, poolName(rating.pool))),
        h("td", { class: "number", title: `± ${Math.round(rating.deviation)}` }, formatRating(rating.rating, rating.provisional)),
        h("td", { class: "number" }, rating.rank === null ? "provisional" : `#${rating.rank}`),
        h("td", { class: "number" }, String(rating.games)),
        h("td", {}, `${rating.wins} / ${rating.draws} / ${rating.losses}`)))),
  );
}

function history(changes) {
  $("history").replaceChildren(...changes.map((change) =>
    h("li", {},
      h("a", { href: `/matches/${change.match}/` }, `match ${change.match}`),
      ` · ${poolName(change.pool)} · ${formatRating(change.before)} → ${formatRating(change.after)} `,
      h("span", { class: change.change >= 0 ? "up" : "down" }, `(${formatChange(change.change)})`))));
  if (!changes.length) $("history").replaceChildren(h("li", {}, "None yet."));
}

function matches(list) {
  $("matches").replaceChildren(...list.map((match) => {
    const versus = match.opponents.flatMap((opponent, i) => [i ? " and " : "", playerLink(opponent)]);
    const change = match.result && match.result.ratings ? match.result.ratings.find((line) => line.player === playerId) : null;
    return h("li", { "data-match": match.id },
      h("a", { href: `/matches/${match.id}/` }, `${gameName(match.game)} #${match.id}`),
      match.opponents.length ? " against " : "", ...versus,
      ` · ${outcome(match, match.seat)}${match.rated ? " · rated" : ""}`,
      change ? h("span", { class: change.change >= 0 ? "up" : "down" }, ` (${formatChange(change.change)})`) : null);
  }));
  if (!list.length) $("matches").replaceChildren(h("li", {}, "None yet."));
}

run(async () => {
  const profile = await client.api("GET", `/api/players/${playerId}`);
  $("title").textContent = profile.bot ? `${profile.name} (bot)` : profile.name;
  document.title = `${profile.name} · Game backend`;
  ratingsTable(profile.ratings);
  history(profile.history);
  matches(profile.matches);
});
