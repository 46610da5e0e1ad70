/**
 * Who is calling (B-SEC-3). The transport hands over what it saw (the `authorization` header and, on an
 * mTLS listener, the client certificate's subject CN); the authenticator names the principal:
 *
 *  - OAuth configured: a `Bearer` JWT is required and names the principal (oauth.ts); on a listener that
 *    also checks client certificates, a call without a token is identified by its certificate instead;
 *  - mTLS configured (a client CA): the certificate's subject CN names the principal;
 *  - nothing configured: every caller is the `anonymous` principal.
 */
import { ANONYMOUS_PRINCIPAL } from "./directory";
import { UnauthenticatedError } from "./errors";
import { OAuthValidator, type OAuthSettings } from "./oauth";

/** Who is calling, and until when that holds (a token's expiry; forever for a certificate or no auth). */
export interface Caller {
  readonly principal: string;
  readonly untilMs?: number;
}

const ANONYMOUS: Caller = { principal: ANONYMOUS_PRINCIPAL };

/** What a transport knows of a caller's identity. */
export interface CallerCredentials {
  /** the `authorization` header, if sent */
  authorization?: string;
  /** the subject CN of the verified client certificate (mTLS listener only) */
  certificateCommonName?: string;
}

export interface AuthSettings {
  oauth?: OAuthSettings;
  /** the listener verifies client certificates and takes their CN as the principal */
  mtls: boolean;
}

export class Authenticator {
  private readonly oauth: OAuthValidator | undefined;

  constructor(readonly settings: AuthSettings) {
    this.oauth = settings.oauth ? new OAuthValidator(settings.oauth) : undefined;
  }

  /** Whether callers prove who they are (otherwise everyone is `anonymous`). */
  get enabled(): boolean {
    return this.oauth !== undefined || this.settings.mtls;
  }

  /**
   * Who is calling, or UnauthenticatedError. With authentication on, no credential may name `anonymous`:
   * that principal is only ever the caller of a server without authentication.
   */
  callerOf(c: CallerCredentials): Caller | Promise<Caller> {
    if (this.oauth) {
      const token = bearerToken(c.authorization);
      if (token !== undefined) {
        const caller = this.oauth.callerOf(token);
        return caller instanceof Promise ? caller.then(notAnonymous) : notAnonymous(caller);
      }
      if (this.settings.mtls && c.certificateCommonName) return certificateCaller(c.certificateCommonName);
      throw new UnauthenticatedError(
        c.authorization === undefined
          ? "authentication is required: send an OAuth access token as 'authorization: Bearer <token>'"
          : "the authorization header is not 'Bearer <token>'",
      );
    }
    if (this.settings.mtls) {
      if (c.certificateCommonName) return certificateCaller(c.certificateCommonName);
      throw new UnauthenticatedError("the client certificate has no subject CN to name the principal");
    }
    return ANONYMOUS;
  }
}

function notAnonymous<C extends Caller>(caller: C): C {
  if (caller.principal === ANONYMOUS_PRINCIPAL)
    throw new UnauthenticatedError(`a credential may not name the '${ANONYMOUS_PRINCIPAL}' principal`);
  return caller;
}

function certificateCaller(commonName: string): Caller {
  return notAnonymous({ principal: commonName });
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
