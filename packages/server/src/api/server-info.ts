import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ACLAction, ACLResource, PrincipalSchema, ServerVersionResponseSchema } from "@pony/proto";
import type { CallContext } from "./context";

/** The LittleHorse API release whose behaviour Pony follows, reported by GetServerVersion. */
export const SERVER_VERSION = { major: 0, minor: 10, patch: 1, preRelease: "pony" } as const;

export function serverInfoHandlers(startedMs: number) {
  return {
    async getServerVersion() {
      return create(ServerVersionResponseSchema, {
        majorVersion: SERVER_VERSION.major,
        minorVersion: SERVER_VERSION.minor,
        patchVersion: SERVER_VERSION.patch,
        preReleaseIdentifier: SERVER_VERSION.preRelease,
      });
    },
    /** Without authentication every caller is the `anonymous` principal with every right (B-SEC-3). */
    async whoami(_req: unknown, ctx: CallContext) {
      return create(PrincipalSchema, {
        id: { id: ctx.principal },
        createdAt: timestampFromMs(startedMs),
        globalAcls: {
          acls: [{ resources: [ACLResource.ACL_ALL_RESOURCES], allowedActions: [ACLAction.ALL_ACTIONS] }],
        },
      });
    },
  };
}
