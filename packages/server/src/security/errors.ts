import { PonyError } from "@pony/engine";
import type { Need } from "./acl";
import { describeNeed } from "./acl";

/** The caller could not be identified: a missing, malformed, expired or untrusted credential (UNAUTHENTICATED). */
export class UnauthenticatedError extends PonyError {}

/** The caller is known but its ACLs do not grant what the RPC needs (PERMISSION_DENIED). */
export class PermissionDeniedError extends PonyError {
  constructor(
    readonly rpc: string,
    readonly principal: string,
    readonly tenant: string | undefined,
    readonly need: Need,
    opts: {
      /** why, in a few words, appended in parentheses */
      why?: string;
      /** the name was read from the store, not from the request: do not tell the caller what it is */
      nameHidden?: boolean;
    } = {},
  ) {
    super(
      `${rpc}: principal '${principal}' lacks ${describeNeed(need, opts.nameHidden)}` +
        (tenant === undefined ? "" : ` in tenant '${tenant}'`) +
        (opts.why ? ` (${opts.why})` : ""),
    );
  }
}
