/**
 * The quick start's workflow, built with the SDK's Workflow builder: a WfSpec `quickstart` with a required
 * STR variable `name`; it runs the task `greet` with `name` and keeps the task's output in `greeting`.
 *
 *   0-entrypoint-ENTRYPOINT ──▶ 1-greet-TASK ──(greeting = output)──▶ 2-exit-EXIT
 */
import { Workflow } from "@pony/sdk";

export const WF_SPEC_NAME = "quickstart";
export const GREET_TASK = "greet";

export const quickstartWorkflow = Workflow.newWorkflow(WF_SPEC_NAME, (wf) => {
  const name = wf.declareStr("name").required();
  const greeting = wf.declareStr("greeting");
  wf.mutate(greeting, "ASSIGN", wf.execute(GREET_TASK, name));
}).withTaskDefs({ [GREET_TASK]: ["STR"] }); // lets compile() check the task's inputs
