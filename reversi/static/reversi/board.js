// Reversi's board renderer: an ES module the pages import from the game's
// board_script ("reversi/board.js", given as board_url by GET /api/games).
// Importing it registers the renderer with the pages' board registry:
//
//   registerBoard("reversi", render, { sides, describeMove })
//   render(match, { mySeat, canMove, pending, onMove, rerender, game }) -> HTMLElement
//
// match is the match as the server sent it (state: { board: 8 strings of
// "."/"B"/"W", to_move, passed, last }); onMove({ row, col }) sends a move.
// Squares where the player to move may play are computed here from the board
// (the same rule as reversi/rules.py: a disc must close a line) and are
// highlighted and clickable only while canMove. The board's CSS is below,
// added once when the module loads, so the game ships one static file.

import { addStyles, h, registerBoard } from "../games/boards.js";

const SIZE = 8;
const DISCS = ["B", "W"];
const SIDES = ["black", "white"];
const DIRECTIONS = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]];
const COLUMNS = "abcdefgh";

const STYLE = `
.reversi { display: grid; gap: .4rem; width: min(100%, 26rem); }
.reversi .board { display: grid; grid-template-columns: repeat(8, 1fr); gap: 2px; padding: 4px; background: #1f5e3a; border-radius: .4rem; }
.reversi .sq { aspect-ratio: 1; border: 0; padding: 0; background: #2f8a55; border-radius: 2px; display: grid; place-items: center; }
.reversi .sq:disabled { cursor: default; }
.reversi .sq.legal { background: #45a86c; box-shadow: inset 0 0 0 2px #c9f2d6; }
.reversi .sq.legal:hover { background: #5cc283; }
.reversi .disc { width: 78%; aspect-ratio: 1; border-radius: 50%; }
.reversi .disc.B { background: #161616; box-shadow: inset 0 -3px 0 #3a3a3a; }
.reversi .disc.W { background: #f4f4ef; box-shadow: inset 0 -3px 0 #c8c8c0; }
.reversi .sq.last .disc { outline: 3px solid #f0c419; outline-offset: 1px; }
.reversi .score { display: flex; gap: 1rem; font-weight: 600; }
`;

/** Whether ``disc`` placed at (row, col) closes at least one line. */
export function flipsSomething(board, row, col, disc) {
  if (board[row][col] !== ".") return false;
  const theirs = DISCS[1 - DISCS.indexOf(disc)];
  return DIRECTIONS.some(([dr, dc]) => {
    let r = row + dr;
    let c = col + dc;
    let seen = 0;
    while (r >= 0 && r < SIZE && c >= 0 && c < SIZE && board[r][c] === theirs) {
      r += dr;
      c += dc;
      seen += 1;
    }
    return seen > 0 && r >= 0 && r < SIZE && c >= 0 && c < SIZE && board[r][c] === disc;
  });
}

/** The squares ``seat`` may play, as "row,col" keys (none when not its turn). */
export function legalSquares(state, seat) {
  const squares = new Set();
  if (state.to_move !== seat || seat === null || seat === undefined) return squares;
  for (let row = 0; row < SIZE; row++) {
    for (let col = 0; col < SIZE; col++) {
      if (flipsSomething(state.board, row, col, DISCS[seat])) squares.add(`${row},${col}`);
    }
  }
  return squares;
}

/** The square as players name it: "d3" is row 2, column 3. */
export const squareName = (row, col) => `${COLUMNS[col]}${row + 1}`;

function counts(board) {
  const text = board.join("");
  return DISCS.map((disc) => text.split(disc).length - 1);
}

export function render(match, { mySeat = null, canMove = false, onMove = () => {} } = {}) {
  const { board, to_move: toMove, passed, last } = match.state;
  const legal = canMove ? legalSquares(match.state, mySeat) : new Set();
  const grid = h("div", { class: "board", role: "grid", "aria-label": "Reversi board" });
  for (let row = 0; row < SIZE; row++) {
    for (let col = 0; col < SIZE; col++) {
      const disc = board[row][col] === "." ? null : board[row][col];
      const playable = legal.has(`${row},${col}`);
      const isLast = Array.isArray(last) && last[0] === row && last[1] === col;
      const what = disc ? SIDES[DISCS.indexOf(disc)] : playable ? "empty, you may play here" : "empty";
      grid.append(
        h(
          "button",
          {
            type: "button",
            class: `sq${playable ? " legal" : ""}${isLast ? " last" : ""}`,
            "data-row": row,
            "data-col": col,
            "aria-label": `${squareName(row, col)}: ${what}${isLast ? ", last move" : ""}`,
            disabled: !playable,
            onclick: () => onMove({ row, col }),
          },
          disc ? h("span", { class: `disc ${disc}` }) : null,
        ),
      );
    }
  }
  const [black, white] = counts(board);
  const parts = [h("p", { class: "score" }, h("span", {}, `● black ${black}`), h("span", {}, `○ white ${white}`))];
  if (passed !== null && passed !== undefined && toMove !== null) {
    parts.push(h("p", { class: "passed" }, `${SIDES[passed]} has no move: ${SIDES[toMove]} plays again.`));
  }
  return h("div", { class: "reversi" }, grid, ...parts);
}

/** How players say a move, given the match right after it: "black on d3". */
export function describeMove(match, seat, move) {
  return `${SIDES[seat]} on ${squareName(move.row, move.col)}`;
}

addStyles(STYLE);
registerBoard("reversi", render, { sides: SIDES, describeMove });
