/**
 * Request decoding. grpc-js answers INTERNAL when a deserializer throws; but bytes that are not a message of
 * the request's type are the caller's fault, so the request is marked instead and its handler answers
 * INVALID_ARGUMENT, saying what could not be decoded.
 */
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";

/** Marks a request whose bytes are not a message of its type; the handler answers INVALID_ARGUMENT. */
const UNDECODABLE = Symbol("undecodable");

export function deserializer(schema: DescMessage) {
  return (b: Buffer): object => {
    try {
      return fromBinary(schema, b);
    } catch (e) {
      // grpc-js would answer INTERNAL: the caller's bytes are at fault, so say so
      const why = e instanceof Error ? e.message : String(e);
      return { [UNDECODABLE]: `the request is not a valid ${schema.typeName}: ${why}` };
    }
  };
}

/** Why a request could not be decoded, or undefined when it was. */
export function undecodable(request: object): string | undefined {
  return (request as { [UNDECODABLE]?: string })[UNDECODABLE];
}
