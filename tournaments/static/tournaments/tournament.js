import { $, client, gameName, h, onPlayer, page, playerLink, run } from "../games/pages/common.js";

const tournamentId = Number(page.dataset.tournament);
let latest = null;
let feed = null;
let myEntry = null; // this player's entry as GET /api/tournaments/<id> last said

function money(t) {
  return t.entry_fee ? `${(t.entry_fee / 100).toFixed(2)} ${t.currency.toUpperCase()}` : "free";
}

function draw(t) {
  latest = t;
  $("title").textContent = t.name;
  $("summary").replaceChildren(`${gameName(t.game)} · ${t.status} · ${t.confirmed}/${t.capacity} places · entry ${money(t)}`,
    ...(t.winner ? [" · winner: ", playerLink(t.winner)] : []));
  const me = client.player;
  const mine = me && t.entries.find((e) => e.player.id === me.id);
  $("enter").hidden = !(me && !mine && t.status === "registration");
  if (mine && myEntry && mine.status !== myEntry.status) run(loadMyEntry); // paid, refunded...
  $("entries").replaceChildren(...t.entries.map((e) => h("li", { "data-status": e.status }, playerLink(e.player), `: ${e.status.replaceAll("_", " ")}`)));
  $("bracket").replaceChildren(
    ...t.bracket.map((round) =>
      h("div", { class: "round", role: "list", "aria-label": `Round ${round.round}` },
        h("h3", {}, round.matches.length === 1 ? "Final" : `Round ${round.round}`),
        ...round.matches.map((m) =>
          h("div", { class: `pairing ${m.status}`, role: "listitem" },
            ...m.players.map((p) => h("div", { class: `side ${m.winner && p && m.winner.id === p.id ? "winner" : ""}` }, p ? playerLink(p) : m.status === "bye" ? "bye" : "…")),
            m.match ? h("a", { href: `/matches/${m.match}/` }, m.status === "active" ? "watch" : "view") : null),
        )),
    ),
  );
}

/** This player's own entry and what to pay, from the server: shown on every
 * visit, not only right after entering. */
function showEntry(entry) {
  myEntry = entry;
  $("payment").hidden = !entry;
  if (!entry) return;
  const status = entry.status.replaceAll("_", " ");
  const payment = entry.payment;
  if (!payment) {
    $("payment").textContent = `You are in! Your entry is ${status}.`;
    return;
  }
  const amount = `${(payment.amount / 100).toFixed(2)} ${payment.currency.toUpperCase()}`;
  $("payment").textContent = entry.status === "pending_payment"
    ? `Your entry is ${status}. Pay ${amount} with ${payment.provider}, reference ${payment.client_reference_id}: the gateway confirms it here.`
    : `Your entry is ${status} (${amount} with ${payment.provider}, reference ${payment.client_reference_id}).`;
}

async function loadMyEntry() {
  if (!client.player) return showEntry(null);
  const { my_entry: entry } = await client.api("GET", `/api/tournaments/${tournamentId}`);
  showEntry(entry);
}

$("enter").onclick = () =>
  run(async () => {
    await client.api("POST", `/api/tournaments/${tournamentId}/entries`);
    await loadMyEntry();
    connect();
  });

function connect() {
  if (feed) feed.close();
  feed = client.tournament(tournamentId);
  feed.addEventListener("message", (event) => {
    const message = event.detail;
    if (message.type === "tournament") draw(message.tournament);
    if (message.type === "match_ready") {
      $("my-match").hidden = false;
      $("my-match").replaceChildren("Your match is ready: ", h("a", { href: `/matches/${message.match.id}/` }, "play it now"));
    }
  });
}

onPlayer(() => {
  if (latest) draw(latest);
  connect();
  run(loadMyEntry);
});
