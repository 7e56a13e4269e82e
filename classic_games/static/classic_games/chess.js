// Chess's board: click one of your pieces, then its target square (pawns
// reaching the last rank become queens); rank and file coordinates from the
// player's own side; the moves so far in SAN. Registered with the pages'
// board registry (games/boards.js).
import { addStyles, h, registerBoard } from "../games/boards.js";

addStyles(`
.chess-frame { display: grid; grid-template-columns: 1.2rem minmax(0, 28rem); }
.chess-frame .ranks { display: grid; grid-template-rows: repeat(8, 1fr); align-items: center; }
.chess-frame .files { grid-column: 2; display: grid; grid-template-columns: repeat(8, 1fr); text-align: center; }
.chess-frame .ranks, .chess-frame .files { font-size: .8rem; color: #555; }
.chess { display: grid; grid-template-columns: repeat(8, 1fr); gap: 0; width: 100%; }
.chess .square { aspect-ratio: 1; font-size: clamp(1.2rem, 5vw, 2rem); border: 0; padding: 0; }
.chess .square:disabled { color: inherit; }
.chess .square.light { background: #eed9b6; }
.chess .square.dark { background: #b58863; }
.chess .square.selected { outline: 3px solid #2a6; outline-offset: -3px; }
.chess .square.light.last { background: #f0e27a; }
.chess .square.dark.last { background: #c9b13f; }
.chess-wrap .moves { font-family: ui-monospace, monospace; }
`);

const PIECES = { K: "♔", Q: "♕", R: "♖", B: "♗", N: "♘", P: "♙", k: "♚", q: "♛", r: "♜", b: "♝", n: "♞", p: "♟" };
const NAMES = { k: "king", q: "queen", r: "rook", b: "bishop", n: "knight", p: "pawn" };

function fenSquares(fen) {
  const squares = {};
  fen.split(" ")[0].split("/").forEach((rank, index) => {
    let file = 0;
    for (const symbol of rank) {
      if (/\d/.test(symbol)) file += Number(symbol);
      else squares[`${"abcdefgh"[file++]}${8 - index}`] = symbol;
    }
  });
  return squares;
}

function render(match, { mySeat, canMove, onMove }) {
  const squares = fenSquares(match.state.fen);
  const white = mySeat !== 1;
  const board = h("div", { class: "grid chess", role: "grid", "aria-label": "Chess board" });
  const ranks = white ? [8, 7, 6, 5, 4, 3, 2, 1] : [1, 2, 3, 4, 5, 6, 7, 8];
  const files = white ? "abcdefgh" : "hgfedcba";
  const last = lastMove(match.state);
  let choice = null;
  const mine = (piece) => piece && (mySeat === 0 ? piece === piece.toUpperCase() : piece === piece.toLowerCase());
  for (const rank of ranks) {
    for (const file of files) {
      const square = `${file}${rank}`;
      const piece = squares[square];
      const dark = ("abcdefgh".indexOf(file) + rank) % 2 === 1;
      const label = `${piece ? `${square} ${piece === piece.toUpperCase() ? "white" : "black"} ${NAMES[piece.toLowerCase()]}` : `${square} empty`}${last.includes(square) ? ", last move" : ""}`;
      const classes = `square ${dark ? "dark" : "light"}${last.includes(square) ? " last" : ""}`;
      const button = h("button", { type: "button", class: classes, "data-square": square, "aria-label": label, disabled: !canMove }, piece ? PIECES[piece] : "");
      button.onclick = () => {
        if (choice && choice !== square && !mine(piece)) {
          const moving = squares[choice];
          const promotes = moving && moving.toLowerCase() === "p" && (rank === 8 || rank === 1);
          const uci = `${choice}${square}${promotes ? "q" : ""}`;
          choice = null;
          onMove({ uci });
        } else if (mine(piece)) {
          choice = square;
          board.querySelectorAll(".selected").forEach((el) => el.classList.remove("selected"));
          button.classList.add("selected");
        }
      };
      board.append(button);
    }
  }
  const claim = h("button", { type: "button", class: "claim", disabled: !canMove, onclick: () => onMove({ claim_draw: true }) }, "Claim a draw (repetition or 50 moves)");
  const moves = h("p", { class: "moves" }, match.state.san.map((san, i) => (i % 2 === 0 ? `${i / 2 + 1}. ${san}` : san)).join(" "));
  return h("div", { class: "chess-wrap" }, coordinates(board, ranks, files), claim, moves);
}

/** The board framed by its rank numbers (left) and file letters (below). */
function coordinates(board, ranks, files) {
  return h("div", { class: "chess-frame" },
    h("div", { class: "ranks", "aria-hidden": "true" }, ...ranks.map((rank) => h("span", {}, String(rank)))),
    board,
    h("div", { class: "files", "aria-hidden": "true" }, ...[...files].map((file) => h("span", {}, file))));
}

/** The squares the last move left and reached, e.g. ["e2", "e4"]. */
function lastMove(state) {
  const uci = state.uci[state.uci.length - 1];
  return uci ? [uci.slice(0, 2), uci.slice(2, 4)] : [];
}

/** "1. e4", "1… e5", "claims a draw": the move as SAN with its number. */
function describeMove(match, seat, move) {
  const { san, start } = match.state;
  if (!move.uci) return "claims a draw";
  const ply = san.length - 1 + (start && start.split(" ")[1] === "b" ? 1 : 0);
  const number = (start ? Number(start.split(" ")[5]) || 1 : 1) + Math.floor(ply / 2);
  const played = `${number}${ply % 2 === 0 ? "." : "…"} ${san[san.length - 1]}`;
  return move.claim_draw ? `${played}, claiming a draw` : played;
}

registerBoard("chess", render, { sides: ["white", "black"], describeMove });
