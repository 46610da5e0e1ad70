/**
 * The RPC fuzzer (issue 13): random requests for every unary RPC of `littlehorse.LittleHorse`, sent as raw
 * bytes over gRPC, so that nothing on the client side cleans them up. Three kinds, in turn:
 *  - schema-random: a message of the RPC's request type built field by field from its descriptor — extreme
 *    numbers (int64 bounds, NaN, ±Infinity, -1), empty / huge / unicode / upper-case strings, enum numbers
 *    that do not exist, nested messages, lists, maps, a oneof case at random, names of objects that exist;
 *  - mutated: such a message's bytes with bytes flipped, cut short, or junk appended;
 *  - nasty: JSON values nested 100,000 deep, deeply nested expressions, and (when `bigPayloads`) payloads of
 *    5–50 MB.
 * Used by test/reliability/fuzz.test.ts (CI) and `npm run soak`.
 */
import * as grpc from "@grpc/grpc-js";
import { create, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { LittleHorse, VariableValueSchema, RunWfRequestSchema } from "@pony/proto";

export interface FuzzStats {
  sent: number;
  /** answers by gRPC status code name */
  codes: Record<string, number>;
  /** requests answered INTERNAL or UNKNOWN, or not at all within the deadline: what they were */
  bad: { method: string; code: string; details: string; kind: string }[];
}

/** A seeded pseudo-random generator (mulberry32), so a failing run can be repeated with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INT64 = [
  0n,
  1n,
  -1n,
  9223372036854775807n,
  -9223372036854775808n,
  2n ** 53n,
  -(2n ** 53n) - 1n,
  86_400n,
];
const INT32 = [0, 1, -1, 2147483647, -2147483648, 1000, 100_000];
const DOUBLES = [0, -0, 1.5, -1, Number.NaN, Infinity, -Infinity, 1e308, -1e308, 5e-324, 2 ** 53];

export class Fuzzer {
  private readonly r: () => number;
  /** whether names of existing objects may be used (not for requests that change or delete them) */
  private useKnown = true;
  constructor(
    seed: number,
    /** names of objects that exist (WfSpec, TaskDef, ExternalEventDef, WfRun ids, …), used now and then */
    private readonly known: string[],
  ) {
    this.r = rng(seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }

  private str(): string {
    switch (Math.floor(this.r() * 9)) {
      case 0:
        return "";
      case 1:
        return this.useKnown ? this.pick(this.known) : "fuzz-unknown";
      case 2:
        return "x".repeat(1 + Math.floor(this.r() * 5000));
      case 3:
        return "ünï-cødé 🐴 \u0000\uffff";
      case 4:
        return "UPPER-Case";
      case 5:
        return "../../etc/passwd";
      case 6:
        return '{"a":'.repeat(50) + "1" + "}".repeat(50);
      case 7:
        return String(Math.floor(this.r() * 1e6));
      default:
        return (this.useKnown ? this.pick(this.known) : "fuzz-unknown") + "-" + Math.floor(this.r() * 100);
    }
  }

  private scalar(t: ScalarType): unknown {
    switch (t) {
      case ScalarType.STRING:
        return this.str();
      case ScalarType.BOOL:
        return this.r() < 0.5;
      case ScalarType.BYTES:
        return new Uint8Array(Math.floor(this.r() * 64)).map(() => Math.floor(this.r() * 256));
      case ScalarType.DOUBLE:
      case ScalarType.FLOAT:
        return this.pick(DOUBLES);
      case ScalarType.INT64:
      case ScalarType.SINT64:
      case ScalarType.SFIXED64:
        return this.pick(INT64);
      case ScalarType.UINT64:
      case ScalarType.FIXED64:
        return this.pick(INT64.filter((n) => n >= 0n));
      case ScalarType.UINT32:
      case ScalarType.FIXED32:
        return this.pick(INT32.filter((n) => n >= 0));
      default:
        return this.pick(INT32);
    }
  }

  private fieldValue(f: DescField, depth: number): unknown {
    switch (f.fieldKind) {
      case "scalar":
        return this.scalar(f.scalar);
      case "enum": {
        const values = f.enum.values.map((v) => v.number);
        return this.r() < 0.85 ? this.pick(values) : this.pick([-1, 99, 2147483647]);
      }
      case "message":
        return this.message(f.message, depth + 1);
      case "list": {
        const n = Math.floor(this.r() * (depth > 2 ? 2 : 4));
        return Array.from({ length: n }, () =>
          f.listKind === "scalar"
            ? this.scalar(f.scalar)
            : f.listKind === "enum"
              ? this.pick(f.enum.values.map((v) => v.number))
              : this.message(f.message, depth + 1),
        );
      }
      case "map": {
        const out: Record<string, unknown> = {};
        const n = Math.floor(this.r() * 3);
        for (let i = 0; i < n; i++) {
          const k = f.mapKey === ScalarType.STRING ? this.str() : String(this.pick(INT32));
          out[k] =
            f.mapKind === "scalar"
              ? this.scalar(f.scalar)
              : f.mapKind === "enum"
                ? this.pick(f.enum.values.map((v) => v.number))
                : this.message(f.message, depth + 1);
        }
        return out;
      }
    }
  }

  /** A random message of this type (plain init object for `create`). */
  message(desc: DescMessage, depth = 0): Record<string, unknown> {
    const init: Record<string, unknown> = {};
    if (depth > 6) return init;
    for (const oneof of desc.oneofs) {
      if (this.r() < 0.3) continue;
      const f = this.pick(oneof.fields);
      init[oneof.localName] = { case: f.localName, value: this.fieldValue(f, depth) };
    }
    for (const f of desc.fields) {
      if (f.oneof) continue;
      if (this.r() < (depth === 0 ? 0.3 : 0.5)) continue;
      init[f.localName] = this.fieldValue(f, depth);
    }
    return init;
  }

  /** The bytes of one request of the method: schema-random, or that mutated. */
  request(input: DescMessage, useKnown: boolean): { bytes: Uint8Array; kind: string } {
    this.useKnown = useKnown;
    let bytes: Uint8Array;
    try {
      bytes = toBinary(input, create(input, this.message(input) as never));
    } catch {
      // a value protobuf-es will not encode (e.g. an int32 out of range): send an empty message
      bytes = new Uint8Array();
    }
    const roll = this.r();
    if (roll < 0.6 || bytes.length === 0) return { bytes, kind: "random" };
    const out = Uint8Array.from(bytes);
    if (roll < 0.8) {
      for (let i = 0; i < 1 + Math.floor(this.r() * 4); i++) {
        out[Math.floor(this.r() * out.length)] = Math.floor(this.r() * 256);
      }
      return { bytes: out, kind: "flipped" };
    }
    if (roll < 0.9) return { bytes: out.subarray(0, Math.floor(this.r() * out.length)), kind: "truncated" };
    const junk = new Uint8Array(1 + Math.floor(this.r() * 32)).map(() => Math.floor(this.r() * 256));
    return { bytes: new Uint8Array([...out, ...junk]), kind: "junk" };
  }
}

/** Requests no schema walk produces: deep nesting and (optionally) huge payloads. */
export function nastyRequests(
  known: string[],
  bigPayloads: boolean,
): { method: string; bytes: Uint8Array; kind: string }[] {
  const wf = known[0] ?? "fuzz-wf";
  const deepJson = "[".repeat(100_000) + "]".repeat(100_000);
  const deepObj = '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000);
  const runWf = (variables: Record<string, unknown>) =>
    toBinary(
      RunWfRequestSchema,
      create(RunWfRequestSchema, { wfSpecName: wf, variables: variables as never }),
    );
  const out = [
    {
      method: "RunWf",
      bytes: runWf({ v: create(VariableValueSchema, { value: { case: "jsonArr", value: deepJson } }) }),
      kind: "deep-json",
    },
    {
      method: "RunWf",
      bytes: runWf({ v: create(VariableValueSchema, { value: { case: "jsonObj", value: deepObj } }) }),
      kind: "deep-json",
    },
    // a protobuf message nested 10,000 deep (a field 1 of length-delimited type, inside itself)
    { method: "PutWfSpec", bytes: nestedBytes(10_000), kind: "deep-proto" },
    { method: "RunWf", bytes: nestedBytes(10_000), kind: "deep-proto" },
  ];
  if (bigPayloads) {
    for (const mb of [5, 20, 50]) {
      out.push({
        method: "RunWf",
        bytes: runWf({
          big: create(VariableValueSchema, { value: { case: "str", value: "x".repeat(mb * 2 ** 20) } }),
        }),
        kind: `${mb}MB`,
      });
    }
  }
  return out;
}

/** Bytes of field 2 (length-delimited) nested `depth` times. */
function nestedBytes(depth: number): Uint8Array {
  let inner = new Uint8Array();
  for (let i = 0; i < depth; i++) {
    const len = varint(inner.length);
    const next = new Uint8Array(1 + len.length + inner.length);
    next[0] = (2 << 3) | 2;
    next.set(len, 1);
    next.set(inner, 1 + len.length);
    inner = next;
  }
  return inner;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

const READS = /^(Get|List|Search|Await|Whoami)/;

/** RPCs that wait for something by design (the caller's deadline ends the wait) */
const WAITS = new Set(["AwaitWorkflowEvent"]);

/** The unary methods of the service: name and request type. */
export const UNARY_METHODS = LittleHorse.methods
  .filter((m) => m.methodKind === "unary")
  .map((m) => ({ name: m.name, input: m.input }));

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** Sends raw request bytes; resolves to the status code name and details. */
export function sendRaw(
  client: grpc.Client,
  method: string,
  bytes: Uint8Array,
  metadata: grpc.Metadata,
  deadlineMs: number,
): Promise<{ code: string; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/littlehorse.LittleHorse/${method}`,
      (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
      (b: Buffer) => b,
      bytes,
      metadata,
      { deadline: Date.now() + deadlineMs },
      (err: grpc.ServiceError | null) => {
        resolve(
          err
            ? { code: CODE_NAMES[err.code] ?? String(err.code), details: err.details }
            : { code: "OK", details: "" },
        );
      },
    );
  });
}

/**
 * Sends `count` fuzzed requests (plus the nasty ones), `concurrency` at a time, to the server at `address`.
 * INTERNAL, UNKNOWN and DEADLINE_EXCEEDED (a hang) are collected in `bad`.
 */
export async function fuzz(
  address: string,
  opts: {
    count: number;
    concurrency: number;
    seed: number;
    known: string[];
    bigPayloads: boolean;
    deadlineMs?: number;
  },
): Promise<FuzzStats> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": 64 * 2 ** 20,
    "grpc.max_receive_message_length": 64 * 2 ** 20,
  });
  const fuzzer = new Fuzzer(opts.seed, opts.known);
  const stats: FuzzStats = { sent: 0, codes: {}, bad: [] };
  const deadlineMs = opts.deadlineMs ?? 15_000;
  const md = new grpc.Metadata();
  const record = (method: string, kind: string, r: { code: string; details: string }) => {
    stats.sent++;
    stats.codes[r.code] = (stats.codes[r.code] ?? 0) + 1;
    // AwaitWorkflowEvent waits for its event until the caller's deadline: that is its answer, not a hang
    const hung = r.code === "DEADLINE_EXCEEDED" && !WAITS.has(method);
    if (r.code === "INTERNAL" || r.code === "UNKNOWN" || hung) {
      stats.bad.push({ method, code: r.code, details: r.details.slice(0, 300), kind });
    }
  };
  for (const n of nastyRequests(opts.known, opts.bigPayloads)) {
    record(n.method, n.kind, await sendRaw(client, n.method, n.bytes, md, deadlineMs));
  }
  let next = 0;
  const lane = async () => {
    while (next < opts.count) {
      const i = next++;
      const m = UNARY_METHODS[i % UNARY_METHODS.length]!;
      // existing objects are named in reads and RunWf only: other commands could change them for real
      const { bytes, kind } = fuzzer.request(m.input, READS.test(m.name) || m.name === "RunWf");
      record(m.name, kind, await sendRaw(client, m.name, bytes, md, WAITS.has(m.name) ? 1000 : deadlineMs));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  client.close();
  return stats;
}
