import { renderBoard } from "../boards.js";
import { $, client, h, page, run } from "./common.js";

const matchId = Number(page.dataset.match);
let steps = [];
let index = 0;

function describe(event) {
  if (event.kind === "move") return `seat ${event.seat + 1}: ${JSON.stringify(event.move)}`;
  if (event.kind === "join") return `seat ${event.seat + 1} joins`;
  return `${event.kind}${event.seat === null ? "" : ` (seat ${event.seat + 1})`}`;
}

function show() {
  const { event, match } = steps[index];
  $("step").textContent = `Step ${index + 1} of ${steps.length}: ${describe(event)}${match.result ? ` · result: ${match.result.reason.replaceAll("_", " ")}` : ""}`;
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
  $("log").replaceChildren(...steps.map((step, i) => {
    const item = h("li", {}, h("button", { type: "button" }, describe(step.event)));
    item.firstChild.onclick = go(() => i);
    return item;
  }));
  index = steps.length - 1;
  show();
});
