/**
 * Protobuf binary encoding for the server's hot paths (store rows, gRPC answers): the same bytes as
 * protobuf-es's `toBinary`, several times faster.
 *
 * `toBinary` walks each message through protobuf-es's reflection API and a writer that gathers bytes in
 * JS arrays and one chunk per string and nested message; for a WfRun with thousands of ThreadRuns that was
 * most of the server's time under load (issue 13). Here each message type's fields are looked up once (a
 * plan per DescMessage), a first pass measures every nested message, packed list and string, and a second
 * pass writes into one buffer of exactly the right size.
 *
 * Same wire output as `toBinary`, field for field (fields by number, unknown fields last, implicit-presence
 * zero values skipped, -0 written): test/to-binary.test.ts compares the two over random messages of every
 * type. Anything this encoder does not handle itself — a value `toBinary` would refuse (an int32 out of
 * range, an int64 that is not a bigint), a group, a map with non-string keys — goes to `toBinary`, which
 * then encodes it or throws its own error.
 */
import { toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { isScalarZeroValue } from "@bufbuild/protobuf/reflect";

/** thrown inside a pass when `toBinary` should decide; never escapes this module */
class ToBinaryDecides extends Error {}
const FALLBACK = new ToBinaryDecides("toBinary decides");

const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

const enum Kind {
  Scalar,
  Message,
  List,
  PackedList,
  MessageList,
  Map,
}

const enum Presence {
  Implicit,
  Explicit,
  Oneof,
}

interface FieldPlan {
  name: string;
  kind: Kind;
  presence: Presence;
  oneof: string;
  /** the tag of the field (or of each item) as a varint, and its size */
  tag: number;
  tagSize: number;
  /** the scalar type of a scalar, enum (INT32), list item or map value */
  scalar: ScalarType;
  /** an enum: its zero value (an implicit-presence enum equal to it is not written) */
  isEnum: boolean;
  enumZero: number;
  /** nested message type (message, message list, or map of messages) */
  message: DescMessage | undefined;
  /** map: values are messages */
  mapOfMessages: boolean;
}

interface Plan {
  fields: FieldPlan[];
  /** encodings of this type are remembered per message object (MEMOIZED) */
  memo: boolean;
}

/**
 * Types whose encoding is remembered per message object and reused while none of its fields changed: a
 * WfRun is written after every command that changes it, and one with thousands of ThreadRuns would
 * otherwise encode every one of them each time, though a command changes a few. Whether a ThreadRun changed
 * is seen by comparing each field with what it was at the last encoding — by value for scalars, by identity
 * for nested messages, item by item for lists — so this holds only while nested messages of these types are
 * replaced, never changed in place (the engine's rule for ThreadRuns: engine run/halting.ts, thread.ts).
 * With PONY_CHECK_ENCODING=1 (the test suite) every reuse is checked against a fresh encoding.
 */
const MEMOIZED = new Set(["littlehorse.ThreadRun"]);

interface Memo {
  /** the fields' values when `bytes` was encoded (lists copied) */
  snapshot: unknown[];
  /** the message's encoding, without its length prefix */
  bytes: Buffer;
}

const memos = new WeakMap<object, Memo>();
/** reused encodings met by the size pass of the current encodeMessage call, in order */
let hits: Buffer[] = [];
const CHECK = process.env.PONY_CHECK_ENCODING === "1";

const UNWRAPPED = new Set(
  ["Struct", "Value", "ListValue", "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value"]
    .concat(["UInt32Value", "BoolValue", "StringValue", "BytesValue"])
    .map((n) => `google.protobuf.${n}`),
);

const plans = new WeakMap<DescMessage, Plan | null>();

function wireTypeOf(t: ScalarType): number {
  switch (t) {
    case ScalarType.BYTES:
    case ScalarType.STRING:
      return 2;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return 5;
    default:
      return 0;
  }
}

const tagOf = (no: number, wireType: number): number => ((no << 3) | wireType) >>> 0;

function planField(f: DescField): FieldPlan | null {
  if (Number(f.presence) === LEGACY_REQUIRED) return null;
  const p: FieldPlan = {
    name: f.localName,
    kind: Kind.Scalar,
    presence: f.oneof
      ? Presence.Oneof
      : Number(f.presence) === IMPLICIT
        ? Presence.Implicit
        : Presence.Explicit,
    oneof: f.oneof?.localName ?? "",
    tag: 0,
    tagSize: 0,
    scalar: ScalarType.INT32,
    isEnum: false,
    enumZero: 0,
    message: undefined,
    mapOfMessages: false,
  };
  switch (f.fieldKind) {
    case "scalar":
      p.scalar = f.scalar;
      p.tag = tagOf(f.number, wireTypeOf(f.scalar));
      return p;
    case "enum":
      p.isEnum = true;
      p.enumZero = f.enum.values[0]?.number ?? 0;
      p.tag = tagOf(f.number, 0);
      return p;
    case "message":
      if (f.delimitedEncoding) return null;
      p.kind = Kind.Message;
      p.message = f.message;
      p.tag = tagOf(f.number, 2);
      return p;
    case "list":
      if (f.listKind === "message") {
        if (f.delimitedEncoding) return null;
        p.kind = Kind.MessageList;
        p.message = f.message;
        p.tag = tagOf(f.number, 2);
        return p;
      }
      p.scalar = f.listKind === "scalar" ? f.scalar : ScalarType.INT32;
      if (f.packed) {
        p.kind = Kind.PackedList;
        p.tag = tagOf(f.number, 2);
      } else {
        p.kind = Kind.List;
        p.tag = tagOf(f.number, wireTypeOf(p.scalar));
      }
      return p;
    case "map":
      if (f.mapKey !== ScalarType.STRING) return null;
      p.kind = Kind.Map;
      p.tag = tagOf(f.number, 2);
      if (f.mapKind === "message") {
        p.mapOfMessages = true;
        p.message = f.message;
      } else {
        p.scalar = f.mapKind === "scalar" ? f.scalar : ScalarType.INT32;
      }
      return p;
  }
}

/** The plan of a message type, or null when this encoder leaves the type (or one it contains) to toBinary. */
function planOf(desc: DescMessage): Plan | null {
  const known = plans.get(desc);
  if (known !== undefined) return known;
  // protobuf-es represents wrappers and Struct in fields by their plain values: toBinary knows how
  if (UNWRAPPED.has(desc.typeName)) {
    plans.set(desc, null);
    return null;
  }
  const plan: Plan = { fields: [], memo: MEMOIZED.has(desc.typeName) };
  plans.set(desc, plan); // recursive types see the plan being built
  const sorted = desc.fields.concat().sort((a, b) => a.number - b.number);
  let ok = true;
  for (const f of sorted) {
    const p = planField(f);
    if (!p) {
      ok = false;
      break;
    }
    p.tagSize = varintSize(p.tag);
    if (p.kind === Kind.Map) plan.memo = false;
    plan.fields.push(p);
  }
  if (ok) {
    for (const p of plan.fields) {
      if (p.message && planOf(p.message) === null) {
        ok = false;
        break;
      }
    }
  }
  plans.set(desc, ok ? plan : null);
  return ok ? plan : null;
}

/** The field's value when it is to be written, else undefined. */
function valueToWrite(p: FieldPlan, m: Record<string, unknown>): unknown {
  switch (p.presence) {
    case Presence.Oneof: {
      const o = m[p.oneof] as { case?: string; value?: unknown };
      if (o.case !== p.name) return undefined;
      if (o.value === undefined) throw FALLBACK;
      return o.value;
    }
    case Presence.Explicit: {
      const v = m[p.name];
      return v !== undefined && Object.hasOwn(m, p.name) ? v : undefined;
    }
    default: {
      const v = m[p.name];
      switch (p.kind) {
        case Kind.Scalar:
          if (p.isEnum ? v === p.enumZero : isScalarZeroValue(p.scalar, v)) return undefined;
          return v;
        case Kind.List:
        case Kind.PackedList:
        case Kind.MessageList:
          return (v as unknown[]).length > 0 ? v : undefined;
        case Kind.Map:
          return Object.keys(v as object).length > 0 ? v : undefined;
        default:
          // a message field always has explicit presence; protobuf-es refuses otherwise
          throw FALLBACK;
      }
    }
  }
}

// ---- sizes ----

/** the size of an unsigned varint of n (0 ≤ n < 2^53) */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 0x80);
  }
  return size;
}

const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** an int64-ish field's value as an unsigned 64-bit bigint, or FALLBACK when toBinary should decide */
function u64(t: ScalarType, v: unknown): bigint {
  if (typeof v !== "bigint") throw FALLBACK;
  switch (t) {
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      if (v < 0n || v >= TWO_64) throw FALLBACK;
      return v;
    case ScalarType.SINT64:
      if (v < -TWO_63 || v >= TWO_63) throw FALLBACK;
      return v >= 0n ? v << 1n : (-v << 1n) - 1n;
    default:
      if (v < -TWO_63 || v >= TWO_63) throw FALLBACK;
      return v >= 0n ? v : v + TWO_64;
  }
}

function bigVarintSize(u: bigint): number {
  if (u <= MAX_SAFE) return varintSize(Number(u));
  let size = 1;
  while (u >= 0x80n) {
    size++;
    u >>= 7n;
  }
  return size;
}

function int32Value(t: ScalarType, v: unknown): number {
  if (typeof v !== "number") throw FALLBACK;
  if (t === ScalarType.UINT32 || t === ScalarType.FIXED32) {
    if (v >>> 0 !== v) throw FALLBACK;
  } else if ((v | 0) !== v) throw FALLBACK;
  return v;
}

const FLOAT32_MAX = 3.4028234663852886e38;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Size of a scalar value without its tag; string and bytes lengths are recorded in `lens`. */
function scalarSize(t: ScalarType, v: unknown, lens: number[]): number {
  switch (t) {
    case ScalarType.STRING: {
      if (typeof v !== "string") throw FALLBACK;
      const n = v.length < 64 && isAscii(v) ? v.length : Buffer.byteLength(v, "utf8");
      lens.push(n);
      return varintSize(n) + n;
    }
    case ScalarType.BYTES: {
      if (!(v instanceof Uint8Array)) throw FALLBACK;
      return varintSize(v.byteLength) + v.byteLength;
    }
    case ScalarType.BOOL:
      if (typeof v !== "boolean") throw FALLBACK;
      return 1;
    case ScalarType.DOUBLE:
      if (typeof v !== "number") throw FALLBACK;
      return 8;
    case ScalarType.FLOAT:
      if (typeof v !== "number" || (Number.isFinite(v) && (v > FLOAT32_MAX || v < -FLOAT32_MAX)))
        throw FALLBACK;
      return 4;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      int32Value(t, v);
      return 4;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      u64(t, v);
      return 8;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
      return bigVarintSize(u64(t, v));
    case ScalarType.SINT32: {
      const n = int32Value(t, v);
      return varintSize(((n << 1) ^ (n >> 31)) >>> 0);
    }
    case ScalarType.UINT32:
      return varintSize(int32Value(t, v));
    default: {
      // INT32 and enums: negative numbers are sign-extended to ten bytes
      const n = int32Value(t, v);
      return n >= 0 ? varintSize(n) : 10;
    }
  }
}

/**
 * The encoded size of a message's fields. The length of every nested message, packed list and string is
 * pushed to `lens` in the order the write pass meets them (a message's own length before its contents').
 */
function messageSize(plan: Plan, m: Record<string, unknown>, lens: number[]): number {
  let size = 0;
  for (const p of plan.fields) {
    const v = valueToWrite(p, m);
    if (v === undefined) continue;
    const tagSize = p.tagSize;
    switch (p.kind) {
      case Kind.Scalar:
        size += tagSize + scalarSize(p.scalar, v, lens);
        break;
      case Kind.Message:
        size += tagSize + nestedSize(p.message!, v, lens);
        break;
      case Kind.MessageList:
        for (const item of v as unknown[]) size += tagSize + nestedSize(p.message!, item, lens);
        break;
      case Kind.List:
        for (const item of v as unknown[]) size += tagSize + scalarSize(p.scalar, item, lens);
        break;
      case Kind.PackedList: {
        const at = lens.push(0) - 1;
        let n = 0;
        for (const item of v as unknown[]) n += scalarSize(p.scalar, item, lens);
        lens[at] = n;
        size += tagSize + varintSize(n) + n;
        break;
      }
      case Kind.Map:
        for (const key of Object.keys(v as object)) {
          const at = lens.push(0) - 1;
          const value = (v as Record<string, unknown>)[key];
          let n = 1 + scalarSize(ScalarType.STRING, key, lens);
          n +=
            1 + (p.mapOfMessages ? nestedSize(p.message!, value, lens) : scalarSize(p.scalar, value, lens));
          lens[at] = n;
          size += tagSize + varintSize(n) + n;
        }
        break;
    }
  }
  const unknown = m.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined;
  if (unknown) for (const u of unknown) size += varintSize(tagOf(u.no, u.wireType)) + u.data.byteLength;
  return size;
}

/** A nested message's size with its length prefix (not its tag). */
function nestedSize(desc: DescMessage, v: unknown, lens: number[]): number {
  if (typeof v !== "object" || v === null) throw FALLBACK;
  const plan = planOf(desc);
  if (plan === null) throw FALLBACK;
  if (plan.memo) {
    const memo = memos.get(v);
    if (memo && unchanged(plan, v as Record<string, unknown>, memo.snapshot)) {
      // a negative length: the write pass copies hits[-n - 1]
      lens.push(-hits.push(memo.bytes));
      return varintSize(memo.bytes.byteLength) + memo.bytes.byteLength;
    }
  }
  const at = lens.push(0) - 1;
  const n = messageSize(plan, v as Record<string, unknown>, lens);
  lens[at] = n;
  return varintSize(n) + n;
}

/** what a memoized message's field is seen as: its value, unless it is not written (see fieldState) */
const NOT_OWN = Symbol("not an own property");

/**
 * A field as far as encoding goes: its value (an explicit-presence field's only when it is an own property,
 * as toBinary checks). Lists are compared item by item, so they are copied into the snapshot.
 */
function fieldState(p: FieldPlan, m: Record<string, unknown>): unknown {
  const v = m[p.name];
  if (p.presence === Presence.Explicit && v !== undefined && !Object.hasOwn(m, p.name)) return NOT_OWN;
  return v;
}

/** The values of a message's fields as they are now (lists copied), to see later whether it changed. */
function snapshotOf(plan: Plan, m: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  for (const p of plan.fields) {
    if (p.presence === Presence.Oneof) {
      const o = m[p.oneof] as { case?: string; value?: unknown };
      out.push(o.case, o.value);
      continue;
    }
    const v = fieldState(p, m);
    out.push(Array.isArray(v) ? v.slice() : v);
  }
  out.push(m.$unknown, (m.$unknown as unknown[] | undefined)?.length);
  return out;
}

function unchanged(plan: Plan, m: Record<string, unknown>, snapshot: unknown[]): boolean {
  let i = 0;
  for (const p of plan.fields) {
    if (p.presence === Presence.Oneof) {
      const o = m[p.oneof] as { case?: string; value?: unknown };
      if (o.case !== snapshot[i] || o.value !== snapshot[i + 1]) return false;
      i += 2;
      continue;
    }
    const v = fieldState(p, m);
    const was = snapshot[i++];
    if (Array.isArray(v)) {
      if (!Array.isArray(was) || was.length !== v.length) return false;
      for (let k = 0; k < v.length; k++) if (v[k] !== was[k]) return false;
    } else if (!Object.is(v, was)) return false;
  }
  return m.$unknown === snapshot[i] && (m.$unknown as unknown[] | undefined)?.length === snapshot[i + 1];
}

// ---- writing ----

class Out {
  pos = 0;
  lensAt = 0;
  constructor(
    readonly buf: Buffer,
    readonly lens: number[],
  ) {}

  varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  bigVarint(u: bigint): void {
    if (u <= MAX_SAFE) return this.varint(Number(u));
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  nextLen(): number {
    return this.lens[this.lensAt++]!;
  }
}

function writeScalar(o: Out, t: ScalarType, v: unknown): void {
  const buf = o.buf;
  switch (t) {
    case ScalarType.STRING: {
      const s = v as string;
      const n = o.nextLen();
      o.varint(n);
      if (n === s.length && n < 64) {
        for (let i = 0; i < n; i++) buf[o.pos + i] = s.charCodeAt(i);
      } else buf.write(s, o.pos, n, "utf8");
      o.pos += n;
      return;
    }
    case ScalarType.BYTES: {
      const b = v as Uint8Array;
      o.varint(b.byteLength);
      buf.set(b, o.pos);
      o.pos += b.byteLength;
      return;
    }
    case ScalarType.BOOL:
      buf[o.pos++] = v ? 1 : 0;
      return;
    case ScalarType.DOUBLE:
      o.pos = buf.writeDoubleLE(v as number, o.pos);
      return;
    case ScalarType.FLOAT:
      o.pos = buf.writeFloatLE(v as number, o.pos);
      return;
    case ScalarType.FIXED32:
      o.pos = buf.writeUInt32LE(v as number, o.pos);
      return;
    case ScalarType.SFIXED32:
      o.pos = buf.writeInt32LE(v as number, o.pos);
      return;
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      o.pos = buf.writeBigUInt64LE(u64(ScalarType.FIXED64, BigInt.asUintN(64, v as bigint)), o.pos);
      return;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
      o.bigVarint(u64(t, v));
      return;
    case ScalarType.SINT32: {
      const n = v as number;
      o.varint(((n << 1) ^ (n >> 31)) >>> 0);
      return;
    }
    default: {
      const n = v as number;
      if (n >= 0) o.varint(n);
      else o.bigVarint(BigInt(n) + TWO_64);
    }
  }
}

function writeMessage(o: Out, plan: Plan, m: Record<string, unknown>): void {
  for (const p of plan.fields) {
    const v = valueToWrite(p, m);
    if (v === undefined) continue;
    switch (p.kind) {
      case Kind.Scalar:
        o.varint(p.tag);
        writeScalar(o, p.scalar, v);
        break;
      case Kind.Message:
        o.varint(p.tag);
        writeNested(o, p.message!, v);
        break;
      case Kind.MessageList:
        for (const item of v as unknown[]) {
          o.varint(p.tag);
          writeNested(o, p.message!, item);
        }
        break;
      case Kind.List:
        for (const item of v as unknown[]) {
          o.varint(p.tag);
          writeScalar(o, p.scalar, item);
        }
        break;
      case Kind.PackedList:
        o.varint(p.tag);
        o.varint(o.nextLen());
        for (const item of v as unknown[]) writeScalar(o, p.scalar, item);
        break;
      case Kind.Map:
        for (const key of Object.keys(v as object)) {
          const value = (v as Record<string, unknown>)[key];
          o.varint(p.tag);
          o.varint(o.nextLen());
          o.buf[o.pos++] = 0x0a; // key: field 1, length-delimited
          writeScalar(o, ScalarType.STRING, key);
          if (p.mapOfMessages) {
            o.buf[o.pos++] = 0x12; // value: field 2, length-delimited
            writeNested(o, p.message!, value);
          } else {
            o.varint(tagOf(2, wireTypeOf(p.scalar)));
            writeScalar(o, p.scalar, value);
          }
        }
        break;
    }
  }
  const unknown = m.$unknown as { no: number; wireType: number; data: Uint8Array }[] | undefined;
  if (unknown) {
    for (const u of unknown) {
      o.varint(tagOf(u.no, u.wireType));
      o.buf.set(u.data, o.pos);
      o.pos += u.data.byteLength;
    }
  }
}

function writeNested(o: Out, desc: DescMessage, v: unknown): void {
  const n = o.nextLen();
  if (n < 0) {
    const bytes = hits[-n - 1]!;
    o.varint(bytes.byteLength);
    o.buf.set(bytes, o.pos);
    o.pos += bytes.byteLength;
    return;
  }
  o.varint(n);
  const plan = planOf(desc)!;
  const start = o.pos;
  writeMessage(o, plan, v as Record<string, unknown>);
  if (plan.memo) {
    const m = v as Record<string, unknown>;
    memos.set(m, { snapshot: snapshotOf(plan, m), bytes: Buffer.from(o.buf.subarray(start, o.pos)) });
  }
}

/**
 * The message's protobuf binary encoding: byte for byte what `toBinary(schema, message)` gives (and the
 * same error where `toBinary` refuses a value), as a Buffer that owns its memory (no pooled slab), so it
 * can be posted to another thread without copying more than itself.
 */
export function encodeMessage<Desc extends DescMessage>(schema: Desc, message: unknown): Buffer {
  const plan = planOf(schema);
  if (plan === null) return viaToBinary(schema, message);
  const lens: number[] = [];
  hits = [];
  let size: number;
  try {
    size = messageSize(plan, message as Record<string, unknown>, lens);
  } catch (e) {
    if (e === FALLBACK) return viaToBinary(schema, message);
    throw e;
  }
  const o = new Out(Buffer.allocUnsafeSlow(size), lens);
  writeMessage(o, plan, message as Record<string, unknown>);
  const reused = hits.length > 0;
  hits = [];
  if (o.pos !== size) throw new Error(`encodeMessage(${schema.typeName}): wrote ${o.pos} of ${size} bytes`);
  if (CHECK && reused && !o.buf.equals(toBinary(schema, message as never))) {
    throw new Error(
      `encodeMessage(${schema.typeName}): a reused encoding is stale (a nested message changed in place)`,
    );
  }
  return o.buf;
}

function viaToBinary(schema: DescMessage, message: unknown): Buffer {
  const bytes = toBinary(schema, message as never);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
