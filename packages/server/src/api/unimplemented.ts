import { UnimplementedError } from "../grpc/status";

/**
 * RPCs of the API that later work builds, with the area that builds them. Each answers UNIMPLEMENTED with a
 * message naming that area, so a client sees at once what is missing and why.
 */
export const NOT_YET_BUILT: Record<string, string> = {
  migrateWfSpec: "WfSpec migration",
};

export function unimplementedHandlers(): Record<string, () => Promise<object>> {
  const out: Record<string, () => Promise<object>> = {};
  for (const [name, area] of Object.entries(NOT_YET_BUILT)) {
    out[name] = () =>
      Promise.reject(
        new UnimplementedError(
          `${name[0]!.toUpperCase()}${name.slice(1)} is not built yet in Pony (issue area: ${area})`,
        ),
      );
  }
  return out;
}
