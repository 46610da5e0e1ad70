/**
 * Child process of `npm run bench:search`: reads 1,000-NodeRun pages of the long WfRun in a loop on two
 * connections until told to stop, so that the parent can time GetServerVersion meanwhile without this
 * reading (receiving 2 × 84 KB responses back to back) delaying its own event loop.
 *
 *   argv: ADDRESS WF_RUN_ID NODE_RUNS
 */
import { create } from "@bufbuild/protobuf";
import { ListNodeRunsRequestSchema, LittleHorse } from "@pony/proto";
import { encodeSearchBookmark } from "../packages/server/src/api/search-bookmarks";
import { serveParent, sendToParent } from "./common";
import { LhClient } from "./grpc";

const [address, wfRunId, nodeRunsText] = process.argv.slice(2);
if (!address || !wfRunId || !nodeRunsText)
  throw new Error("usage: list-reader-child.ts ADDRESS WF_RUN_ID NODE_RUNS");
const nodeRuns = Number(nodeRunsText);
const readers = [new LhClient(address), new LhClient(address)];
let stop = false;
let pages = 0;
const loops = readers.map(async (c, r) => {
  for (let i = r; !stop; i += 2) {
    const from = Math.floor((((i * 7919) % 1000) / 1000) * nodeRuns);
    await c.unaryRaw(
      LittleHorse.method.listNodeRuns,
      create(ListNodeRunsRequestSchema, {
        wfRunId: { id: wfRunId },
        bookmark: encodeSearchBookmark("ListNodeRuns", [0, from]),
        limit: 1000,
      }),
    );
    pages++;
  }
});

serveParent({
  stop: async () => {
    stop = true;
    await Promise.all(loops);
    for (const c of readers) c.close();
    setImmediate(() => process.exit(0));
    return pages;
  },
});
sendToParent({ ev: "ready" });
