/**
 * Many WfRuns written straight into a store, as the runtime writes them (a WfRun row, its Variables and
 * their search index entries), so that a store of a million WfRuns takes minutes, not hours. Used by
 * `npm run bench:search` and `npm run bench:dashboard`.
 *
 * Each WfRun of the WfSpec (which must declare a searchable STR `customer` and an INT `amount`) has
 * `customer` = cust-(i mod customers) and `amount` = i mod 1000. Statuses: 70% COMPLETED, 20% RUNNING,
 * 10% ERROR; start times `stepMs` apart from `baseMs`.
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { LHStatus, VariableSchema, WfRunSchema, type WfSpecId } from "@pony/proto";
import { valueKey } from "../packages/server/src/runtime/index-keys";
import { PonyServer, loadSettings } from "@pony/server";
import type { Store, WriteOp } from "../packages/server/src/store/store";

export const STATUS_BY_DECILE = [
  ...Array<LHStatus>(7).fill(LHStatus.COMPLETED),
  LHStatus.RUNNING,
  LHStatus.RUNNING,
  LHStatus.ERROR,
];

export const seededRunId = (i: number) => `seed-${i.toString(36).padStart(4, "0")}`;

export interface SeedOptions {
  wfSpecId: WfSpecId;
  runs: number;
  customers: number;
  baseMs: number;
  stepMs: number;
  batch?: number;
  /** called after every 100,000 WfRuns */
  progress?: (done: number) => void;
}

export async function seedWfRuns(store: Store, o: SeedOptions): Promise<void> {
  const batch = o.batch ?? 5000;
  const spec = o.wfSpecId;
  for (let from = 0; from < o.runs; from += batch) {
    const ops: WriteOp[] = [];
    for (let i = from; i < Math.min(o.runs, from + batch); i++) {
      const id = seededRunId(i);
      const startMs = o.baseMs + i * o.stepMs;
      const status = STATUS_BY_DECILE[i % 10]!;
      const startTime = timestampFromMs(startMs);
      const endTime = status === LHStatus.RUNNING ? undefined : timestampFromMs(startMs + 5);
      const wfRun = create(WfRunSchema, {
        id: { id },
        wfSpecId: spec,
        status,
        startTime,
        endTime,
        threadRuns: [
          {
            wfSpecId: spec,
            number: 0,
            status,
            threadSpecName: "entrypoint",
            startTime,
            endTime,
            currentNodePosition: 1,
          },
        ],
      });
      ops.push({ op: "putWfRun", tenant: "default", wfRunKey: id, wfRun });
      const cust = create(VariableSchema, {
        id: { wfRunId: { id }, threadRunNumber: 0, name: "customer" },
        value: { value: { case: "str", value: `cust-${i % o.customers}` } },
        createdAt: startTime,
        wfSpecId: spec,
      });
      ops.push({
        op: "putVariable",
        tenant: "default",
        wfRunKey: id,
        variable: cust,
        index: {
          wfSpecName: spec.name,
          wfSpecMajor: spec.majorVersion,
          wfSpecRevision: spec.revision,
          wfRunStartMs: startMs,
          entries: [{ field: "customer", key: valueKey(cust.value) }],
        },
      });
      const amount = create(VariableSchema, {
        id: { wfRunId: { id }, threadRunNumber: 0, name: "amount" },
        value: { value: { case: "int", value: BigInt(i % 1000) } },
        createdAt: startTime,
        wfSpecId: spec,
      });
      ops.push({ op: "putVariable", tenant: "default", wfRunKey: id, variable: amount });
    }
    await store.commit(ops);
    if (Math.floor((from + batch) / 100_000) > Math.floor(from / 100_000)) o.progress?.(from + batch);
  }
}

/** A Pony server in this process on `dataDir` (free loopback ports), to put metadata and seed its store. */
export async function startSeedingServer(dataDir: string): Promise<PonyServer> {
  const settings = loadSettings(
    [
      "--grpc-port",
      "0",
      "--grpc-host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
    ],
    {},
  );
  return PonyServer.start(settings);
}
