// What every page shares: the client (one guest player per tab), the name
// form in the header, error display, and the games the server plays.
//
// Identity: a page acts only as the player it shows. The player lives in this
// tab's sessionStorage and every call and socket ticket carries its token; the
// cookie all tabs share is never used, so a tab where no name was entered yet
// watches as nobody until one is.
import { GameClient } from "../client.js";
import { listGames } from "../boards.js";

export const $ = (id) => document.getElementById(id);
export const client = GameClient.fromStorage();
export const page = $("page");
// Set by the server when this page's origin may not open sockets (the reason
// is on the page): the connections then stop at "refused".
client.socketRefusal = page.dataset.socketRefusal || null;

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") element.onclick = value;
    else if (value !== null && value !== undefined) element.setAttribute(name, value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

export function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

export async function run(action) {
  try {
    showError("");
    return await action();
  } catch (error) {
    showError(error.message);
    return undefined;
  }
}

const listeners = [];

/** Call ``callback`` now and whenever the player logs in. */
export function onPlayer(callback) {
  listeners.push(callback);
  callback(client.player);
}

function showPlayer() {
  $("name-form").hidden = Boolean(client.player);
  $("hello").hidden = !client.player;
  if (client.player) $("hello").textContent = `Playing as ${client.player.name}`;
}

$("name-form").onsubmit = (event) => {
  event.preventDefault();
  run(async () => {
    await client.createGuest($("name").value);
    showPlayer();
    listeners.forEach((callback) => callback(client.player));
  });
};
showPlayer();

/** Every game the server plays (GET /api/games), by slug: their names,
 * rules and board scripts. Empty, with the error shown, if the list failed. */
export const GAMES = new Map(
  (await listGames().catch((error) => {
    showError(error.message);
    return [];
  })).map((game) => [game.slug, game]),
);

/** A game's name as the server gives it ("Connect four"), else its slug. */
export const gameName = (slug) => (GAMES.has(slug) ? GAMES.get(slug).name : slug);

/** A player's name as a link to their profile page (``player``: {id, name}). */
export function playerLink(player, attributes = {}) {
  return h("a", { href: `/players/${player.id}/`, class: "player-link", ...attributes }, player.name);
}

/** A rating pool as people say it: "Chess · blitz", "Tic-tac-toe". */
export function poolName(pool) {
  const [game, speed] = pool.split(".");
  return speed ? `${gameName(game)} · ${speed}` : gameName(game);
}

/** A rating in whole points, with "?" while it is provisional. */
export const formatRating = (rating, provisional = false) => `${Math.round(rating)}${provisional ? "?" : ""}`;

/** A rating change with its sign: "+12.3", "−4.0", "±0". */
export const formatChange = (change) => (change > 0 ? `+${change.toFixed(1)}` : change < 0 ? `−${(-change).toFixed(1)}` : "±0");
