/**
 * What the fuzz test stores before it fuzzes, and how it checks it is unchanged afterwards: a TaskDef, an
 * ExternalEventDef, a WfSpec and COMPLETED WfRuns (the fuzzer uses their names now and then, so requests
 * reach the handlers' deeper paths). Requests the fuzzer sends may create new objects; these must stay as
 * they were.
 */
import type { Msg, TestClient } from "./client";
import { entry, exit, thread, varDef, wfSpec } from "./specs";

export interface FuzzTargets {
  names: string[];
  wfRunIds: string[];
}

export async function seedFuzzTargets(c: TestClient): Promise<FuzzTargets> {
  await c.call("PutTaskDef", { name: "fuzz-task", input_vars: [{ name: "x", type: "STR" }] });
  await c.call("PutExternalEventDef", { name: "fuzz-event" });
  await c.call("PutWfSpec", wfSpec("fuzz-wf", thread([entry(), exit("1-exit-EXIT")], [varDef("v", "STR")])));
  const wfRunIds: string[] = [];
  for (let i = 0; i < 3; i++)
    wfRunIds.push((await c.call("RunWf", { wf_spec_name: "fuzz-wf", id: `fuzz-run-${i}` })).id.id);
  return { names: ["fuzz-task", "fuzz-event", "fuzz-wf", "default", "anonymous", ...wfRunIds], wfRunIds };
}

/** The stored objects the fuzz test checks, as the server answers them. */
export async function snapshotOf(c: TestClient, t: FuzzTargets): Promise<Msg> {
  return {
    taskDef: await c.call("GetTaskDef", { name: "fuzz-task" }),
    eventDef: await c.call("GetExternalEventDef", { name: "fuzz-event" }),
    wfSpec: await c.call("GetLatestWfSpec", { name: "fuzz-wf" }),
    wfRuns: await Promise.all(t.wfRunIds.map((id) => c.call("GetWfRun", { id }))),
    nodeRuns: await Promise.all(t.wfRunIds.map((id) => c.call("ListNodeRuns", { wf_run_id: { id } }))),
  };
}
