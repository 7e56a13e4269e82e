// Board renderers, one per game in the registry. Each draws the match as the
// server sent it (never a locally applied move) and calls onMove(move) when
// the player acts. Cells are buttons with accessible labels.
//
//   renderBoard(element, match, { mySeat, canMove, pending, onMove })
//   sideOf("chess", 0)                 // "white": the mark or colour a seat plays
//   describeMove(match, seat, move)    // "1. e4", "X on cell 5": as players say it

const h = (tag, attributes = {}, ...children) => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") element.onclick = value;
    else if (name === "disabled") element.disabled = Boolean(value);
    else if (value !== null && value !== undefined) element.setAttribute(name, value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
};

const renderers = { tictactoe, connect4, chess: chessBoard, battleship };

const SIDES = { tictactoe: ["X", "O"], connect4: ["red", "yellow"], chess: ["white", "black"] };

/** The mark or colour ``seat`` plays, or null where seats have none. */
export function sideOf(game, seat) {
  return (SIDES[game] || [])[seat] || null;
}

/** A move as players know it (1-based cells, SAN), given the match right after it. */
export function describeMove(match, seat, move) {
  const describe = NOTATION[match.game];
  return describe ? describe(match, seat, move) : JSON.stringify(move);
}

const NOTATION = {
  tictactoe: (match, seat, move) => `${sideOf("tictactoe", seat)} on cell ${move.cell + 1}`,
  connect4: (match, seat, move) => `${sideOf("connect4", seat)} disc in column ${move.column + 1}`,
  chess: chessNotation,
  battleship: battleshipNotation,
};

export function renderBoard(element, match, options) {
  const render = renderers[match.game];
  const rerender = () => renderBoard(element, match, options);
  element.replaceChildren(render ? render(match, { ...options, rerender }) : h("p", {}, `No board for ${match.game} yet.`));
}

function tictactoe(match, { canMove, onMove }) {
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

function connect4(match, { canMove, onMove }) {
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

function chessBoard(match, { mySeat, canMove, onMove }) {
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

function chessNotation(match, seat, move) {
  const { san, start } = match.state;
  if (!move.uci) return "claims a draw";
  const ply = san.length - 1 + (start && start.split(" ")[1] === "b" ? 1 : 0);
  const number = (start ? Number(start.split(" ")[5]) || 1 : 1) + Math.floor(ply / 2);
  const played = `${number}${ply % 2 === 0 ? "." : "…"} ${san[san.length - 1]}`;
  return move.claim_draw ? `${played}, claiming a draw` : played;
}

const FLEET = [5, 4, 3, 3, 2];

export function randomFleet(random = Math.random) {
  for (;;) {
    const taken = new Set();
    const fleet = [];
    for (const size of FLEET) {
      for (let attempt = 0; attempt < 200; attempt++) {
        const dir = random() < 0.5 ? "right" : "down";
        const row = Math.floor(random() * (dir === "down" ? 11 - size : 10));
        const col = Math.floor(random() * (dir === "right" ? 11 - size : 10));
        const cells = Array.from({ length: size }, (_, i) => (dir === "down" ? `${row + i},${col}` : `${row},${col + i}`));
        if (cells.some((cell) => taken.has(cell))) continue;
        cells.forEach((cell) => taken.add(cell));
        fleet.push({ row, col, size, dir });
        break;
      }
    }
    if (fleet.length === FLEET.length) return fleet;
  }
}

function waters(title, fleet, shots, { shootable, onShoot }) {
  const ships = new Set((fleet || []).flat().map(([r, c]) => `${r},${c}`));
  const hits = new Map(shots.map(([r, c, hit]) => [`${r},${c}`, hit]));
  const cells = [];
  for (let row = 0; row < 10; row++) {
    for (let col = 0; col < 10; col++) {
      const key = `${row},${col}`;
      const shot = hits.has(key) ? (hits.get(key) ? "hit" : "miss") : null;
      const label = `${title} row ${row + 1} column ${col + 1}: ${shot || (ships.has(key) ? "ship" : "water")}`;
      cells.push(
        h("button", {
          type: "button",
          class: `water ${ships.has(key) ? "ship" : ""} ${shot || ""}`,
          "aria-label": label,
          "data-cell": key,
          disabled: !shootable || shot !== null,
          onclick: () => onShoot([row, col]),
        }, shot === "hit" ? "✕" : shot === "miss" ? "•" : ""),
      );
    }
  }
  return h("section", { class: "waters" }, h("h3", {}, title), h("div", { class: "grid sea" }, ...cells));
}

const drafts = new Map();

function battleship(match, { mySeat, canMove, onMove, rerender }) {
  const state = match.state;
  const seated = mySeat === 0 || mySeat === 1;
  const me = seated ? mySeat : 0;
  const them = 1 - me;
  const placing = seated && state.fleets[me] === null && match.status === "active";
  const parts = [];
  if (placing) {
    const draft = drafts.get(match.id) || randomFleet();
    drafts.set(match.id, draft);
    const cells = draft.map((ship) => Array.from({ length: ship.size }, (_, i) => (ship.dir === "down" ? [ship.row + i, ship.col] : [ship.row, ship.col + i])));
    parts.push(
      h("p", {}, "Place your fleet in secret: shuffle until you like it, then confirm."),
      h("button", { type: "button", onclick: () => { drafts.set(match.id, randomFleet()); rerender(); } }, "Shuffle the fleet"),
      h("button", { type: "button", class: "confirm-fleet", disabled: !canMove, onclick: () => onMove({ fleet: draft }) }, "Confirm the fleet"),
      waters("Your waters", cells, [], { shootable: false }),
    );
  } else {
    parts.push(
      waters(seated ? "Enemy waters" : `${nameOf(match, them)}'s waters`, state.fleets[them], state.shots[me], {
        shootable: canMove && state.fleets[me] !== null,
        onShoot: (shot) => onMove({ shot }),
      }),
      waters(seated ? "Your waters" : `${nameOf(match, me)}'s waters`, state.fleets[me], state.shots[them], { shootable: false }),
    );
  }
  return h("div", { class: "battleship" }, ...parts);
}

function battleshipNotation(match, seat, move) {
  if (!move.shot) return "places the fleet";
  const [row, col] = move.shot;
  const shot = match.state.shots[seat].find(([r, c]) => r === row && c === col);
  return `shoots at row ${row + 1}, column ${col + 1}${shot ? (shot[2] ? ": hit" : ": miss") : ""}`;
}

function nameOf(match, seat) {
  const player = match.players.find((p) => p.seat === seat);
  return player ? player.name : `Seat ${seat + 1}`;
}
