import { create } from "@bufbuild/protobuf";
import { ServerVersionResponseSchema } from "@pony/proto";

/** The LittleHorse API release whose behaviour Pony follows, reported by GetServerVersion. */
export const SERVER_VERSION = { major: 0, minor: 10, patch: 1, preRelease: "pony" } as const;

export function serverInfoHandlers() {
  return {
    async getServerVersion() {
      return create(ServerVersionResponseSchema, {
        majorVersion: SERVER_VERSION.major,
        minorVersion: SERVER_VERSION.minor,
        patchVersion: SERVER_VERSION.patch,
        preReleaseIdentifier: SERVER_VERSION.preRelease,
      });
    },
  };
}
