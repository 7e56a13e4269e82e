// Tic-tac-toe's board: nine cells, each a button while it is free and the
// player may move. Registered with the pages' board registry (games/boards.js).
import { addStyles, h, registerBoard } from "../games/boards.js";

const SIDES = ["X", "O"];

addStyles(`
.tictactoe { display: grid; gap: 3px; grid-template-columns: repeat(3, 1fr); width: min(100%, 18rem); }
.tictactoe .cell { aspect-ratio: 1; font-size: 2.2rem; background: #fff; border: 2px solid #999; border-radius: .4rem; }
.tictactoe .cell:disabled { color: inherit; }
`);

function render(match, { canMove, onMove }) {
  return h(
    "div",
    { class: "grid tictactoe", role: "grid", "aria-label": "Tic-tac-toe board" },
    ...match.state.board.map((mark, cell) =>
      h(
        "button",
        {
          type: "button",
          class: "cell",
          "aria-label": `Cell ${cell + 1}: ${mark || "empty"}`,
          disabled: !canMove || mark !== null,
          onclick: () => onMove({ cell }),
        },
        mark || "",
      ),
    ),
  );
}

registerBoard("tictactoe", render, {
  sides: SIDES,
  describeMove: (match, seat, move) => `${SIDES[seat]} on cell ${move.cell + 1}`,
});
