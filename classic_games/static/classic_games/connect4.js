// Connect four's board: a drop button per column above the grid of slots.
// Registered with the pages' board registry (games/boards.js).
import { addStyles, h, registerBoard } from "../games/boards.js";

const SIDES = ["red", "yellow"];

addStyles(`
.connect4 .drops, .connect4 .c4 { display: grid; grid-template-columns: repeat(7, 1fr); gap: 3px; width: min(100%, 24rem); }
.connect4 .c4 { background: #2453a6; padding: 4px; border-radius: .4rem; }
.connect4 .slot { aspect-ratio: 1; border-radius: 50%; background: #f6f6f3; }
.connect4 .slot.R { background: #d33; }
.connect4 .slot.Y { background: #f2c230; }
`);

function render(match, { canMove, onMove }) {
  const columns = match.state.columns;
  const drops = columns.map((column, index) =>
    h(
      "button",
      {
        type: "button",
        class: "drop",
        "aria-label": `Drop a disc in column ${index + 1}`,
        disabled: !canMove || column.length >= 6,
        onclick: () => onMove({ column: index }),
      },
      "▼",
    ),
  );
  const cells = [];
  for (let row = 5; row >= 0; row--) {
    for (let col = 0; col < 7; col++) {
      const disc = columns[col][row] || null;
      cells.push(h("div", { class: `slot ${disc || ""}`, role: "img", "aria-label": `Row ${row + 1} column ${col + 1}: ${disc ? (disc === "R" ? "red" : "yellow") : "empty"}` }));
    }
  }
  return h("div", { class: "connect4" }, h("div", { class: "drops" }, ...drops), h("div", { class: "grid c4" }, ...cells));
}

registerBoard("connect4", render, {
  sides: SIDES,
  describeMove: (match, seat, move) => `${SIDES[seat]} disc in column ${move.column + 1}`,
});
