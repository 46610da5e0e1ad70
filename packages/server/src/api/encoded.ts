/**
 * Responses already in protobuf binary form. The List RPCs answer with objects exactly as the store holds
 * them (protobuf bytes): decoding each row only for the transport to encode it again costs tens of µs per
 * object with protobuf-es, which for a page of 1,000 NodeRuns is most of a millisecond budget spent many
 * times over. The gRPC listener writes the bytes as they are (a transport that needs the message, for JSON,
 * decodes them with fromBinary and the RPC's output schema).
 */
import { varintSize } from "../protobuf/to-binary";

export class EncodedResponse {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * A `XxxList` response (`repeated Xxx results = 1; optional bytes bookmark = 2;`, as NodeRunList,
 * TaskRunList, VariableList, ExternalEventList and UserTaskRunList are) from the encoded objects.
 */
export function encodedList(results: Uint8Array[], bookmark?: Uint8Array): EncodedResponse {
  // one buffer of the exact size, each field written in place: tag, length, bytes
  let size = 0;
  for (const r of results) size += 1 + varintSize(r.length) + r.length;
  if (bookmark !== undefined) size += 1 + varintSize(bookmark.length) + bookmark.length;
  const out = new Uint8Array(size);
  let at = 0;
  const put = (tag: number, bytes: Uint8Array) => {
    out[at++] = tag;
    for (let n = bytes.length; ; n >>>= 7) {
      if (n < 0x80) {
        out[at++] = n;
        break;
      }
      out[at++] = (n & 0x7f) | 0x80;
    }
    out.set(bytes, at);
    at += bytes.length;
  };
  for (const r of results) put(RESULTS_TAG, r);
  if (bookmark !== undefined) put(BOOKMARK_TAG, bookmark);
  return new EncodedResponse(out);
}

/** field 1 (results) and field 2 (bookmark), both length-delimited: (field << 3) | 2 */
const RESULTS_TAG = (1 << 3) | 2;
const BOOKMARK_TAG = (2 << 3) | 2;
