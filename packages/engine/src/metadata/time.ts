import { clone } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";

/** The caller's clock reading: the metadata module never reads the time itself. */
export type Now = Date | Timestamp;

/** A fresh Timestamp for `now`. */
export function toTimestamp(now: Now): Timestamp {
  return now instanceof Date ? timestampFromDate(now) : clone(TimestampSchema, now);
}
