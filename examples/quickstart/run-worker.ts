/**
 * The quick start's `greet` worker on its own, until Ctrl-C: for running the task under its own principal
 * while `npm run quickstart -- --no-worker` registers and runs the workflow (README: Securing Pony).
 *
 *   npx tsx examples/quickstart/run-worker.ts
 *
 * The server and credentials come from LittleHorse's client settings (LHC_API_HOST, LHC_OAUTH_*, …).
 */
import { LHConfig } from "@pony/sdk";
import { createGreetWorker } from "./worker";
import { GREET_TASK } from "./workflow";

const config = new LHConfig();
const worker = createGreetWorker(config);

// The TaskDef is registered by the quick start: until then, wait for it.
let waiting = false;
for (;;) {
  try {
    await worker.start();
    break;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (!message.includes("does not exist")) {
      console.error(`The worker could not start: ${message}`);
      process.exit(1);
    }
    if (!waiting) console.log(`Waiting for the TaskDef '${GREET_TASK}' to be registered…`);
    waiting = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
console.log(`Worker ${worker.taskWorkerId} is polling '${GREET_TASK}' at ${config.apiAddress}`);

const stop = () => {
  void worker.close().then(() => {
    config.close();
    process.exit(0);
  });
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
