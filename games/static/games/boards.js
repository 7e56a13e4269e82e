// The boards: a registry of renderers, one per game, loaded on demand from
// the game's own static files, and the generic board for a game without one.
// A board draws the match as the server sent it (never a locally applied
// move) and calls onMove(move) when the player acts.
//
// A game's board script (its `board_script`; GET /api/games gives its URL as
// `board_url`) is an ES module that registers its renderer when imported,
// with registerBoard from this module (and, if it likes, the helpers h and
// addStyles):
//
//   import { registerBoard, h, addStyles } from "../games/boards.js";
//   addStyles(".reversi { display: grid; }");      // the board's own CSS, once
//   registerBoard("reversi", (match, { mySeat, canMove, pending, onMove, rerender, game }) => h("div", {}, "…"), {
//     sides: ["black", "white"],                    // the side each seat plays (optional)
//     describeMove: (match, seat, move) => "d3",    // a move as players say it (optional)
//     applyFrame: (state, frame) => newState,       // a real-time game's tick frame applied (optional)
//     animated: true,                               // follows context.live itself between renders (optional)
//   });
//
// render(match, context) returns the board's DOM node. `match` is the match
// as the API and sockets give it; the context holds `mySeat` (null for a
// spectator), `canMove` (the viewer may move now), `pending` (a move of the
// viewer's is on its way), `onMove(move)` (send a move), `rerender()` (draw
// again, after a local change such as a selection) and `game` (the game's
// entry in GET /api/games). A board script that imports this module does so
// by the relative path above (static/<app>/x.js to static/games/boards.js),
// so every board and page share one registry, hashed file names or not.
//
// Real-time games (tick_ms in GET /api/games): the server sends a `tick`
// frame per tick (or per frame_every ticks) with what the game's frame()
// says changed; the board's applyFrame(state, frame) returns the state after
// it (a new object; the old one is kept as the previous tick's, for
// interpolation). Without one, a frame must carry the whole state. On the
// match page the context also holds `live`: the match's connection
// (games/client.js MatchConnection: live.match.state, tick, previous,
// tickAt, realtime, latency, input(input), mySeat). A board registered
// `animated` reads it on its own (requestAnimationFrame) between renders
// and the page renders it again only when the match changes otherwise;
// any other board is rendered again at every tick. `onMove` sends an input
// for a real-time game.
//
// The pages use:
//
//   await loadBoard("chess")                       // imports the board script once
//   renderBoard(element, match, { mySeat, canMove, pending, onMove })
//   sideOf("chess", 0)                             // "white", or null where seats have none
//   describeMove(match, seat, move)                // "1. e4", "X on cell 5": as players say it
//   frameApplier("lightcycles")                    // the board's applyFrame, or null
//   isAnimated("lightcycles")                      // whether the board follows the ticks itself

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "onclick") element.onclick = value;
    else if (name === "disabled") element.disabled = Boolean(value);
    else if (value !== null && value !== undefined) element.setAttribute(name, value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

/** Adds a board's CSS to the document (a constructed stylesheet, so no
 * inline <style> is needed). Call it once, when the board script loads. */
export function addStyles(css) {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}

const boards = new Map(); // slug -> { render, sides, describeMove, applyFrame, animated }
const loads = new Map(); // slug -> the promise of its board being ready

/** Registers the renderer of the game ``slug`` (see the top of this file). */
export function registerBoard(slug, render, { sides = null, describeMove = null, applyFrame = null, animated = false } = {}) {
  if (typeof render !== "function") throw new TypeError(`registerBoard("${slug}"): render must be a function`);
  if (applyFrame !== null && typeof applyFrame !== "function") throw new TypeError(`registerBoard("${slug}"): applyFrame must be a function`);
  boards.set(slug, { render, sides, describeMove, applyFrame, animated: Boolean(animated) });
}

/** The tick frame applier of ``slug``'s board (a real-time game), or null. */
export function frameApplier(slug) {
  const board = boards.get(slug);
  return (board && board.applyFrame) || null;
}

/** Whether ``slug``'s board follows the ticks itself (see the top of this file). */
export function isAnimated(slug) {
  const board = boards.get(slug);
  return Boolean(board && board.animated);
}

let catalogue = null;

/** Every game the server plays, as GET /api/games lists them (fetched once). */
export function listGames() {
  catalogue ??= fetch("/api/games", { credentials: "omit" })
    .then(async (response) => {
      if (!response.ok) throw new Error(`The list of games could not be loaded (${response.status}).`);
      return (await response.json()).games;
    })
    .catch((error) => {
      catalogue = null; // the next call tries again
      throw error;
    });
  return catalogue;
}

const games = new Map(); // slug -> its entry in GET /api/games, once its board is ready
const failures = new Map(); // slug -> why its board script did not load

/** Makes the board of ``slug`` ready: imports its board script (once), or
 * settles for the generic board when it has none or it fails to load (the
 * board then says why). Never rejects. */
export function loadBoard(slug) {
  if (!loads.has(slug)) {
    loads.set(slug, (async () => {
      let game = { slug, name: slug, move_schema: {} };
      try {
        game = (await listGames()).find((entry) => entry.slug === slug) || game;
        if (game.board_url && !boards.has(slug)) {
          await import(game.board_url);
          if (!boards.has(slug)) throw new Error(`${game.board_url} did not call registerBoard("${slug}", …)`);
        }
      } catch (error) {
        console.warn(error);
        failures.set(slug, error.message);
      }
      games.set(slug, game);
    })());
  }
  return loads.get(slug);
}

/** Whether the board of ``slug`` is ready to draw (see loadBoard). */
export const boardReady = (slug) => games.has(slug);

/** The side ``seat`` plays in ``game`` ("white", "X"), or null. */
export function sideOf(game, seat) {
  const board = boards.get(game);
  return (board && board.sides && board.sides[seat]) || null;
}

/** A move as players know it, given the match right after it. */
export function describeMove(match, seat, move) {
  const board = boards.get(match.game);
  return board && board.describeMove ? board.describeMove(match, seat, move) : JSON.stringify(move);
}

const waiting = new WeakMap(); // element -> the latest [match, options] asked for while the board loads

/** Draws ``match`` into ``element``: with the game's board once it is ready
 * (loading it first, then drawing the latest match asked for), else with
 * the generic board. */
export function renderBoard(element, match, options) {
  if (!boardReady(match.game)) {
    const first = !waiting.has(element);
    waiting.set(element, [match, options]);
    if (first) {
      element.replaceChildren(h("p", { class: "board-loading" }, "Loading the board…"));
      loadBoard(match.game).then(() => {
        if (waiting.has(element)) renderBoard(element, ...waiting.get(element));
      });
    }
    return;
  }
  waiting.delete(element); // drawn now: a match asked for while the board loaded is older
  const game = games.get(match.game) || { slug: match.game, move_schema: {} };
  const board = boards.get(match.game);
  const rerender = () => renderBoard(element, match, options);
  const context = { pending: false, ...options, rerender, game };
  const failure = failures.get(match.game);
  const drawn = board ? board.render(match, context) : genericBoard(match, context);
  element.replaceChildren(...(failure ? [h("p", { class: "notice" }, `The board of ${game.name || match.game} failed to load (${failure}): here is the plain one.`)] : []), drawn);
}

// --- the generic board ---------------------------------------------------------

// What the player typed, kept across redraws until the match moves on:
// match id -> { seq, values: field name -> value }.
const drafts = new Map();

/** A game's state shown as it is, and for a seated player a form for a move
 * built from the game's move_schema (JSON Schema): a number input per
 * integer, a checkbox per boolean, a text input per string (a list for an
 * enum), JSON for the rest. */
function genericBoard(match, { mySeat, canMove, onMove, game }) {
  if (mySeat === null || mySeat === undefined) return h("div", { class: "generic-board" }, stateTable(match.state));
  const fields = moveFields(game.move_schema || {});
  const form = h("form", { class: "generic-move", "aria-label": "Your move" });
  const fieldset = h("fieldset", { disabled: !canMove }, h("legend", {}, "Your move"));
  if (!drafts.has(match.id) || drafts.get(match.id).seq !== match.seq) drafts.set(match.id, { seq: match.seq, values: new Map() });
  const draft = drafts.get(match.id).values;
  const inputs = fields.map((field) => {
    const id = field.whole ? "move" : `move-${field.name}`;
    const input = moveInput(field, id);
    if (draft.has(field.name)) {
      if (input.type === "checkbox") input.checked = draft.get(field.name);
      else input.value = draft.get(field.name);
    }
    input.addEventListener("input", () => {
      input.setCustomValidity(""); // a JSON mistake no longer blocks the form once edited
      draft.set(field.name, input.type === "checkbox" ? input.checked : input.value);
    });
    fieldset.append(h("label", { for: id }, field.label), input);
    return [field, input];
  });
  fieldset.append(h("button", { type: "submit" }, "Make the move"));
  form.append(fieldset);
  form.onsubmit = (event) => {
    event.preventDefault();
    const move = readMove(inputs);
    if (move !== null) onMove(move);
  };
  return h("div", { class: "generic-board" }, stateTable(match.state), form);
}

/** The fields of a move: one per property of an object schema, or one JSON
 * field for the whole move when the schema is anything else. */
function moveFields(schema) {
  if (!schema.properties) return [{ name: "move", whole: true, label: "Move (JSON)", kind: "json", required: true, schema }];
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const plain = withoutNull(property);
    const kind = ["integer", "number", "boolean", "string"].includes(plain.type) ? plain.type : "json";
    return { name, label: `${plain.title || property.title || name}${kind === "json" ? " (JSON)" : ""}`, kind, required: required.has(name), schema: plain };
  });
}

/** ``{"anyOf": [X, {"type": "null"}]}`` (an optional field) as X. */
function withoutNull(schema) {
  const options = schema.anyOf || schema.oneOf || [];
  const others = options.filter((option) => option.type !== "null");
  return others.length === 1 && options.length === 2 ? { ...others[0], title: schema.title } : schema;
}

function moveInput({ kind, required, schema }, id) {
  const common = { id, name: id, required: required && kind !== "boolean" ? "" : null };
  if (kind === "integer" || kind === "number") {
    return h("input", { ...common, type: "number", step: kind === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum, inputmode: "numeric" });
  }
  if (kind === "boolean") return h("input", { ...common, type: "checkbox" });
  if (kind === "string" && schema.enum) {
    return h("select", common, ...(required ? [] : [h("option", { value: "" }, "")]), ...schema.enum.map((value) => h("option", { value }, value)));
  }
  if (kind === "string") return h("input", { ...common, type: "text", minlength: schema.minLength, maxlength: schema.maxLength, autocomplete: "off" });
  return h("textarea", { ...common, rows: "3", spellcheck: "false", placeholder: JSON.stringify(example(schema)) });
}

/** A hint of the JSON a field takes, from its schema. */
function example(schema) {
  if (schema.type === "array") return [];
  if (schema.type === "object" || schema.properties) return {};
  return null;
}

/** The move the form holds, or null (the form then says what is wrong). */
function readMove(inputs) {
  const move = {};
  for (const [field, input] of inputs) {
    input.setCustomValidity("");
    if (field.kind === "boolean") move[field.name] = input.checked;
    else if (input.value === "" && !field.required) continue;
    else if (field.kind === "integer" || field.kind === "number") move[field.name] = Number(input.value);
    else if (field.kind === "string") move[field.name] = input.value;
    else {
      try {
        const parsed = JSON.parse(input.value);
        if (field.whole) return parsed;
        move[field.name] = parsed;
      } catch {
        input.setCustomValidity("This is not valid JSON.");
        input.reportValidity();
        return null;
      }
    }
  }
  return move;
}

/** The state, one row per key: text as it is, rows of text (a board) one
 * per line, anything else as indented JSON. */
function stateTable(state) {
  const value = (item) => {
    if (item === null || typeof item !== "object") return h("code", {}, item === null ? "null" : String(item));
    if (Array.isArray(item) && item.length && item.every((row) => typeof row === "string")) return h("pre", {}, item.join("\n"));
    const compact = JSON.stringify(item);
    return h("pre", {}, compact.length <= 60 ? compact : JSON.stringify(item, null, 2));
  };
  return h("table", { class: "generic-state" },
    h("caption", {}, "State"),
    h("tbody", {}, ...Object.entries(state || {}).map(([key, item]) => h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, value(item))))));
}
