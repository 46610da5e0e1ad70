/** Reading proto-loader VariableValue objects in black-box tests. */
import type { Msg, TestClient } from "./client";

/** The JS value of a VariableValue message (INT as a number, JSON parsed, BYTES as a Buffer, null when unset). */
export function js(v: Msg | undefined | null): unknown {
  if (!v || !v.value) return null;
  switch (v.value) {
    case "int":
      return Number(v.int);
    case "json_obj":
      return JSON.parse(v.json_obj);
    case "json_arr":
      return JSON.parse(v.json_arr);
    default:
      return v[v.value];
  }
}

/** Every variable of a WfRun by name, as JS values. */
export async function variablesOf(c: TestClient, wfRunId: Msg): Promise<Record<string, unknown>> {
  const list = await c.call("ListVariables", { wf_run_id: wfRunId });
  return Object.fromEntries(list.results.map((v: Msg) => [v.id.name, js(v.value)]));
}
