import { $, client, h, poolName, run } from "../games/pages/common.js";

run(async () => {
  const { leaderboards } = await client.api("GET", "/api/leaderboards");
  $("no-boards").hidden = leaderboards.length > 0;
  $("boards").replaceChildren(
    ...leaderboards.map((board) =>
      h("li", { "data-pool": board.pool },
        h("a", { href: `/leaderboards/${board.pool}/` }, poolName(board.pool)),
        ` · ${board.players} ranked${board.rated > board.players ? `, ${board.rated - board.players} provisional` : ""}`)),
  );
});
