/**
 * Where a WfRun lives in a cluster: WfRuns fall into a fixed number of partitions by a hash of the tenant and
 * the root WfRun's id, so a child WfRun (stored as `parent_child`) is always in its parent's partition.
 */

/**
 * The part of a WfRun key that places it: everything before its first '_'. A child's key starts with its
 * parent's key and '_', so parent and child share it. (A root id may hold '_' itself; placing by the part
 * before it still keeps a WfRun and its children together.)
 */
function placementKey(wfRunKey: string): string {
  const i = wfRunKey.indexOf("_");
  return i < 0 ? wfRunKey : wfRunKey.slice(0, i);
}

/** The partition of a WfRun among `count`: FNV-1a (32 bit) of tenant, NUL, placement key, modulo count. */
export function partitionOf(tenant: string, wfRunKey: string, count: number): number {
  let h = 0x811c9dc5;
  const text = tenant + "\u0000" + placementKey(wfRunKey);
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    // hash UTF-16 code units as two bytes when above one byte, so every server computes the same value
    if (c > 0xff) {
      h = Math.imul(h ^ (c >>> 8), 0x01000193);
      c &= 0xff;
    }
    h = Math.imul(h ^ c, 0x01000193);
  }
  return (h >>> 0) % count;
}
