// Battleship's board: during the setup phase, your fleet placed at random
// (shuffle until you like it, then confirm); then the enemy's waters to
// shoot at and your own. Registered with the pages' board registry
// (games/boards.js).
import { addStyles, h, registerBoard } from "../games/boards.js";

addStyles(`
.battleship { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
.battleship .sea { display: grid; grid-template-columns: repeat(10, 1fr); gap: 1px; width: min(100%, 26rem); }
.battleship .water { aspect-ratio: 1; border: 0; padding: 0; background: #9cc7e8; font-size: .8rem; }
.battleship .water:disabled { color: inherit; }
.battleship .water.ship { background: #5d6d7e; }
.battleship .water.hit { background: #d33; color: #fff; }
.battleship .water.miss { background: #d7e6f2; }
`);

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

function render(match, { mySeat, canMove, onMove, rerender }) {
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

function describeMove(match, seat, move) {
  if (!move.shot) return "places the fleet";
  const [row, col] = move.shot;
  const shot = match.state.shots[seat].find(([r, c]) => r === row && c === col);
  return `shoots at row ${row + 1}, column ${col + 1}${shot ? (shot[2] ? ": hit" : ": miss") : ""}`;
}

function nameOf(match, seat) {
  const player = match.players.find((p) => p.seat === seat);
  return player ? player.name : `Seat ${seat + 1}`;
}

registerBoard("battleship", render, { describeMove });
