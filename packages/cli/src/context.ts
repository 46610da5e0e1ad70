/**
 * What every command shares: the streams, the settings (LHConfig, read on first use so `pony --help` needs
 * none), one client, and printing of protobuf messages as pretty protobuf JSON.
 */
import type { Readable, Writable } from "node:stream";
import { toJson, type DescMessage } from "@bufbuild/protobuf";
import { LittleHorse, type WfRun } from "@pony/proto";
import { renderTable } from "./output/render";
import { styler, wantsColour } from "./output/style";
import { currentNodeKey, wfRunView, type CurrentNodes } from "./output/wf-run-view";

/** threads of a WfRun whose current node `get wfRun` looks up for its table */
const MAX_THREADS_SHOWN = 100;
import {
  LHConfig,
  type LHCallOptions,
  type LHClient,
  type LHRequestInit,
  type LHResponse,
  type LHUnaryMethodName,
} from "@pony/sdk";

/** The process around the CLI: streams and environment (replaced in unit tests). */
export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: Record<string, string | undefined>;
}

/** A mistake in how the CLI was called (bad argument, unreadable file): exit code 2. */
export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

/** Options every command accepts (given before the command: `pony --timeout 5 get wfRun x`). */
export interface GlobalOptions {
  /** a littlehorse.config properties file (else ~/.config/littlehorse.config when it exists) */
  config?: string;
  /** per-call deadline in seconds */
  timeout: number;
  /** how results print: a table, or protobuf JSON (default: a table on a terminal, JSON otherwise) */
  output?: OutputFormat;
}

export type OutputFormat = "table" | "json";

export class CliContext {
  private lhConfig: LHConfig | undefined;

  constructor(
    readonly io: CliIO,
    private readonly globals: () => GlobalOptions,
  ) {}

  /** The LHC_* settings: from the environment, then the config file, then the defaults. */
  config(): LHConfig {
    this.lhConfig ??= new LHConfig({ configFile: this.globals().config, env: this.io.env });
    return this.lhConfig;
  }

  client(): LHClient {
    return this.config().getClient();
  }

  callOptions(): LHCallOptions {
    return { timeoutMs: this.globals().timeout * 1000 };
  }

  /** Calls a unary RPC with the CLI's deadline. Rejects with the SDK's LHApiError. */
  async call<M extends LHUnaryMethodName>(method: M, req: LHRequestInit<M>): Promise<LHResponse<M>> {
    const fn = this.client()[method] as unknown as (
      r: LHRequestInit<M>,
      o: LHCallOptions,
    ) => Promise<LHResponse<M>>;
    return fn(req, this.callOptions());
  }

  /** Calls a unary RPC and prints its response (as a table or as JSON: see `format`). */
  async show<M extends LHUnaryMethodName>(method: M, req: LHRequestInit<M>): Promise<void> {
    const res = await this.call(method, req);
    await this.print(LittleHorse.method[method].output, res);
  }

  /** `-o table|json`; without it, a table when stdout is a terminal and JSON when it is piped (as lhctl). */
  format(): OutputFormat {
    return this.globals().output ?? (this.isTerminal() ? "table" : "json");
  }

  /** the format given with `-o`, if any */
  outputOption(): OutputFormat | undefined {
    return this.globals().output;
  }

  isTerminal(): boolean {
    return (this.io.stdout as { isTTY?: boolean }).isTTY === true;
  }

  /** Prints a message in the chosen format: protobuf JSON, or its table view (output/render.ts). */
  async print(schema: DescMessage, message: unknown): Promise<void> {
    if (this.format() === "json") return this.printMessage(schema, message);
    this.io.stdout.write(await this.tableOf(schema, message));
  }

  /** The table view of a message; a WfRun's shows each thread's current node (read with GetNodeRun). */
  async tableOf(schema: DescMessage, message: unknown): Promise<string> {
    const rc = {
      style: styler(wantsColour(this.isTerminal(), this.io.env)),
      nowMs: Date.now(),
    };
    if (schema.typeName !== "littlehorse.WfRun") return renderTable(schema, message, rc);
    const wfRun = message as WfRun;
    const nodes: CurrentNodes = new Map();
    await Promise.all(
      wfRun.threadRuns.slice(0, MAX_THREADS_SHOWN).map(async (t) => {
        const n = await this.call("getNodeRun", {
          wfRunId: wfRun.id,
          threadRunNumber: t.number,
          position: t.currentNodePosition,
        }).catch(() => undefined);
        if (n) nodes.set(currentNodeKey(t.number, t.currentNodePosition), n.nodeName);
      }),
    );
    return wfRunView(wfRun, nodes, rc);
  }

  /** Prints a message as protobuf JSON (enum names, int64 as strings, bytes as base64), indented. */
  printMessage(schema: DescMessage, message: unknown): void {
    this.printJson(toJson(schema, message as never));
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A line for the user that is not the command's result (prompts, notes): stderr. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  close(): void {
    this.lhConfig?.close();
  }
}
