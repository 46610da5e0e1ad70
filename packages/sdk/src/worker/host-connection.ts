/**
 * One PollTask stream to one server host (B-TASK-2). Each request written asks for one task; the server
 * answers each with one response, a ScheduledTask or empty. The worker owns the slots (how many requests
 * may be outstanding); this class only counts the requests in flight on its stream and gives them back
 * when the stream breaks.
 *
 *   idle ──open()──▶ open ──stream fails or ends──▶ backoff ──timer──▶ open …
 *     open ──drain()──▶ draining (half-closed: answers still arrive) ──stream over──▶ closed
 *
 * The backoff doubles from 200 ms to 5 s and starts over once the stream has delivered a response.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PollTaskRequestSchema, PollTaskResponse, ScheduledTask } from "@pony/proto";
import type { LHBidiStream, LHClient } from "../client";
import type { LHApiError } from "../errors";
import type { LHWorkerLogger } from "./logger";

const INITIAL_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;
/** close() waits this long for the server to end a half-closed stream before cancelling it. */
const DRAIN_TIMEOUT_MS = 5_000;

export interface HostConnectionEvents {
  /** a task arrived; its slot stays taken until the worker has run and reported it */
  onTask(conn: HostConnection, task: ScheduledTask): void;
  /** `n` slots are free again (empty responses, or requests lost with a broken stream) */
  onSlotsFreed(n: number): void;
  /** the connection can take requests again (after a reconnect) */
  onReady(conn: HostConnection): void;
}

type State = "idle" | "open" | "backoff" | "draining" | "closed";

export class HostConnection {
  private state: State = "idle";
  private stream: LHBidiStream<MessageInitShape<typeof PollTaskRequestSchema>, PollTaskResponse> | undefined;
  /** requests written on the current stream and not answered yet */
  private outstanding = 0;
  private backoffMs = INITIAL_BACKOFF_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastError = "";
  private drained: (() => void) | undefined;

  constructor(
    readonly client: LHClient,
    private readonly request: MessageInitShape<typeof PollTaskRequestSchema>,
    private readonly events: HostConnectionEvents,
    private readonly log: LHWorkerLogger,
  ) {}

  get address(): string {
    return this.client.address;
  }

  /** Whether requests may be written now. */
  get isOpen(): boolean {
    return this.state === "open";
  }

  /** requests in flight on this connection */
  get inFlightRequests(): number {
    return this.outstanding;
  }

  open(): void {
    if (this.state !== "idle" && this.state !== "backoff") return;
    this.retryTimer = undefined;
    this.state = "open";
    const stream = this.client.pollTask();
    this.stream = stream;
    stream.on("data", (res) => this.onResponse(stream, res));
    stream.on("error", (err) => this.onError(stream, err));
    stream.on("close", () => this.onClosed(stream));
    this.events.onReady(this);
  }

  /** Writes one PollTaskRequest; the caller has taken a slot for it. */
  ask(): void {
    if (this.state !== "open" || !this.stream) throw new Error(`ask() on a ${this.state} connection`);
    this.outstanding++;
    this.stream.write(this.request);
  }

  /**
   * Stops asking: half-closes the stream, so tasks the server already claimed for us still arrive, and
   * resolves once the server has ended it (or after a timeout, cancelling it).
   */
  drain(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const stream = this.stream;
    if (this.state === "closed") return Promise.resolve();
    if (!stream || this.state !== "open") {
      this.state = "closed";
      return Promise.resolve();
    }
    this.state = "draining";
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => stream.cancel(), DRAIN_TIMEOUT_MS);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
      stream.end();
    });
  }

  private onResponse(stream: LHBidiStream<unknown, PollTaskResponse>, res: PollTaskResponse): void {
    if (stream !== this.stream) return;
    this.outstanding = Math.max(0, this.outstanding - 1);
    if (this.failures > 0) {
      this.log.info(`PollTask to ${this.address} works again after ${this.failures} failed attempt(s)`);
    }
    this.failures = 0;
    this.lastError = "";
    this.backoffMs = INITIAL_BACKOFF_MS;
    if (res.result) this.events.onTask(this, res.result);
    else this.events.onSlotsFreed(1);
  }

  private onError(stream: LHBidiStream<unknown, PollTaskResponse>, err: LHApiError): void {
    if (stream !== this.stream || this.state === "draining" || this.state === "closed") return;
    this.failures++;
    // one line per kind of failure, not one per retry
    if (err.message !== this.lastError) {
      this.log.warn(
        `PollTask to ${this.address} failed (${err.code}: ${err.details}); reconnecting with backoff`,
      );
      this.lastError = err.message;
    }
  }

  private onClosed(stream: LHBidiStream<unknown, PollTaskResponse>): void {
    if (stream !== this.stream) return;
    this.stream = undefined;
    const lost = this.outstanding;
    this.outstanding = 0;
    if (this.state === "draining" || this.state === "closed") {
      this.state = "closed";
      if (lost > 0) this.events.onSlotsFreed(lost);
      this.drained?.();
      this.drained = undefined;
      return;
    }
    // the server ended the stream or it broke: retry after the backoff
    this.state = "backoff";
    const delay = Math.round(this.backoffMs * (0.8 + Math.random() * 0.4));
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.retryTimer = setTimeout(() => this.open(), delay);
    if (lost > 0) this.events.onSlotsFreed(lost);
  }
}
