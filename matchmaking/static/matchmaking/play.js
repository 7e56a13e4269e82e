// The "Play now" page: one button per game and time control. Pressing one
// seeks over /ws/queue/ (rated or casual, with the computer as a fallback if
// asked), shows the wait with a cancel button, and opens the match as soon as
// the server pairs this player.
import { $, client, GAMES, h, onPlayer, run, showError } from "../games/pages/common.js";
import { addStyles } from "../games/boards.js";

addStyles(`
.quick-games { display: grid; gap: .8rem; }
.quick-game { background: #fff; border: 1px solid #ccd; border-radius: .3rem; padding: .5rem .8rem; }
.quick-game h2 { margin: 0 0 .4rem; }
.controls { display: flex; flex-wrap: wrap; gap: .4rem; }
.controls button { min-width: 5rem; }
`);

// Time controls, the same for every game (any game takes the engine's clock
// options): untimed, a limit per move, or a clock as players write it
// (minutes + seconds added per move).
const CLOCKS = [[1, 0], [3, 2], [5, 0], [10, 5]];
const MOVE_TIMEOUT = 30;
const CONTROLS = [
  { label: "untimed", options: {} },
  { label: `${MOVE_TIMEOUT} s a move`, options: { move_timeout: MOVE_TIMEOUT } },
  ...CLOCKS.map(([minutes, increment]) => ({
    label: `${minutes}+${increment}`,
    options: { clock: { initial: minutes * 60, increment } },
  })),
];

/** The seek this page waits on, over the client's queue socket (which
 * reopens itself with a fresh ticket when it drops). A seek dies with its
 * socket (the server withdraws it), so on a new socket the page goes to the
 * match if the seek was paired meanwhile (the news lost with the old
 * socket), else seeks again. */
class Queue {
  constructor() {
    this.wanted = null; // the seek message this page waits on, if any
    this.seekId = null; // the id the server gave it
    this.connection = client.queue();
    this.connection.addEventListener("status", (event) => event.detail === "open" && this.resume());
  }

  async resume() {
    if (!this.wanted) return;
    if (this.seekId) {
      try {
        const seek = await client.api("GET", `/api/queue/${this.seekId}`);
        if (seek.status === "paired") {
          const paired = { type: "paired", match: seek.match, seat: seek.seat, opponent: seek.opponent, seek };
          this.connection.handle(paired);
          return;
        }
      } catch (error) {
        // Unknown now: seek again.
      }
    }
    this.connection.send(this.wanted);
  }

  seek(game, options, botAfter) {
    this.wanted = { type: "seek", game, options, ...(botAfter ? { bot_after: botAfter } : {}) };
    this.seekId = null;
    this.connection.send(this.wanted); // or, not open yet, resume() sends it once it is
  }

  cancel() {
    this.wanted = null;
    this.seekId = null;
    this.connection.send({ type: "cancel" });
  }
}

let queue = null;
let seeking = null; // the seek the server says this page waits on
let startedAt = 0;
let ticker = null;

function showWaiting(seek, waiting) {
  seeking = seek;
  $("waiting").hidden = false;
  $("queue-note").hidden = true;
  document.querySelectorAll(".controls button").forEach((button) => { button.disabled = true; });
  startedAt = startedAt || performance.now();
  const draw = () => {
    const seconds = Math.floor((performance.now() - startedAt) / 1000);
    const others = waiting > 1 ? ` (${waiting - 1} other${waiting > 2 ? "s" : ""} waiting in this pool)` : "";
    $("waiting-text").textContent = `Waiting for an opponent: ${describe(seek)}, ${seconds} s${others}…`;
  };
  draw();
  clearInterval(ticker);
  ticker = setInterval(draw, 1000);
}

function showIdle(note) {
  seeking = null;
  startedAt = 0;
  clearInterval(ticker);
  $("waiting").hidden = true;
  $("queue-note").hidden = !note;
  $("queue-note").textContent = note || "";
  document.querySelectorAll(".controls button").forEach((button) => { button.disabled = false; });
}

function describe(seek) {
  const game = GAMES.has(seek.game) ? GAMES.get(seek.game).name : seek.game;
  const clock = seek.options.clock;
  const time = clock ? `${clock.initial / 60}+${clock.increment}`
    : seek.options.move_timeout ? `${seek.options.move_timeout} s a move` : "untimed";
  return `${game} ${time}, ${seek.options.rated ? "rated" : "casual"}`;
}

const WITHDRAWN = {
  cancelled: "",
  closed: "The connection dropped and your seek was withdrawn.",
  expired: "Your seek lapsed. Press Play now again.",
};

function openQueue() {
  if (queue) return queue;
  queue = new Queue();
  queue.connection.addEventListener("message", (event) => {
    const message = event.detail;
    if (message.type === "seeking") {
      queue.seekId = message.seek.id;
      showWaiting(message.seek, message.waiting);
    }
    else if (message.type === "paired") {
      queue.wanted = null;
      $("waiting-text").textContent = `Paired with ${message.opponent ? message.opponent.name : "an opponent"}: opening the match…`;
      location.href = `/matches/${message.match}/`;
    } else if (message.type === "withdrawn") {
      if (seeking && message.seek.id === seeking.id) {
        queue.wanted = null;
        showIdle(WITHDRAWN[message.reason] || "");
      }
    } else if (message.type === "error") {
      queue.wanted = null;
      showIdle("");
      showError(message.message);
    }
  });
  queue.connection.addEventListener("status", (event) => {
    if (event.detail === "refused") showError($("page").dataset.socketRefusal);
  });
  return queue;
}

function play(slug, control) {
  run(async () => {
    if (!client.player) throw new Error("Enter your name first.");
    const options = { ...control.options, ...($("rated").checked ? { rated: true } : {}) };
    openQueue().seek(slug, options, $("computer-fallback").checked ? 20 : null);
    showWaiting({ game: slug, options, id: null }, 1);
  });
}

function showGames() {
  const playable = [...GAMES.values()].filter((game) => game.min_players <= 2 && 2 <= game.max_players);
  $("games").replaceChildren(
    ...playable.map((game) =>
      h("section", { class: "quick-game", "data-game": game.slug, "aria-label": game.name },
        h("h2", {}, game.name),
        h("div", { class: "controls" },
          ...CONTROLS.map((control) =>
            h("button", { type: "button", "aria-label": `Play now: ${game.name} ${control.label}`,
              onclick: () => play(game.slug, control) }, control.label)),
        ))),
  );
}

$("cancel").onclick = () => {
  if (queue) queue.cancel();
  showIdle("");
};

showGames();
onPlayer((player) => {
  if (player) openQueue();
});
