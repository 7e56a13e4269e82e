import { describeMove, loadBoard, renderBoard } from "../boards.js";
import { $, client, h, page, playerLink, run } from "./common.js";

const matchId = Number(page.dataset.match);
let steps = [];
let index = 0;

const names = (match, seats) => seats.map((seat) => (match.players.find((p) => p.seat === seat) || {}).name || `seat ${seat + 1}`).join(" and ");

// Each kind of event as a sentence, from the event and the match right after it.
const SENTENCES = {
  move: (event, match) => `${names(match, [event.seat])}: ${describeMove(match, event.seat, event.move)}`,
  join: (event, match) => `${names(match, [event.seat])} joins`,
  resign: (event, match) => `${names(match, [event.seat])} resigns`,
  offer_draw: (event, match) => `${names(match, [event.seat])} offers a draw`,
  accept_draw: (event, match) => `${names(match, [event.seat])} accepts the draw`,
  rematch: (event, match) => `${names(match, [event.seat])} asks for a rematch`,
  timeout: (event, match) => `${names(match, event.move.seats)} ran out of time`,
  abandon: (event, match) => `${names(match, event.move.seats)} left the game`,
  abort: () => "staff aborted the match",
  // A real-time match's logged tick: its inputs, or (the last one) just the tick.
  ticks: (event, match) => {
    const inputs = event.move.inputs.map(([seat, input]) => `${names(match, [seat])}: ${describeMove(match, seat, input)}`);
    return `tick ${event.move.tick}${inputs.length ? ` · ${inputs.join(", ")}` : ""}`;
  },
};

function describe({ event, match }) {
  const sentence = SENTENCES[event.kind];
  return sentence ? sentence(event, match) : event.kind.replaceAll("_", " ");
}

function show() {
  const { match } = steps[index];
  $("step").textContent = `Step ${index + 1} of ${steps.length}: ${describe(steps[index])}${match.result ? ` · result: ${match.result.reason.replaceAll("_", " ")}` : ""}`;
  renderBoard($("board"), match, { mySeat: null, canMove: false, onMove: () => {} });
  [...$("log").children].forEach((item, i) => item.setAttribute("aria-current", i === index ? "step" : "false"));
  $("first").disabled = $("back").disabled = index === 0;
  $("forward").disabled = $("last").disabled = index === steps.length - 1;
}

const go = (to) => () => {
  index = Math.max(0, Math.min(steps.length - 1, to()));
  show();
};
$("first").onclick = go(() => 0);
$("back").onclick = go(() => index - 1);
$("forward").onclick = go(() => index + 1);
$("last").onclick = go(() => steps.length - 1);

run(async () => {
  ({ steps } = await client.api("GET", `/api/matches/${matchId}/replay`));
  if (steps.length) await loadBoard(steps[0].match.game); // the moves as players say them, and the board
  $("log").replaceChildren(...steps.map((step, i) => {
    const item = h("li", {}, h("button", { type: "button" }, describe(step)));
    item.firstChild.onclick = go(() => i);
    return item;
  }));
  const players = steps.length ? steps[steps.length - 1].match.players : [];
  $("players").replaceChildren(...players.flatMap((player, i) => [i ? " v " : "Players: ", playerLink(player)]));
  index = steps.length - 1;
  show();
});
