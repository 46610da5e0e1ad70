/**
 * OAuth bearer tokens (B-SEC-3): a JWT validated with `jose` against the configured issuer, audience and
 * keys (a JWKS URL, or a local JWKS file that is read again when it changes, so keys can be rotated without a
 * restart). The principal is the token's `client_id` claim for machine tokens (client credentials) and its
 * `sub` claim (the user id) for human tokens, as LittleHorse names them.
 *
 * A validated token is remembered until it expires, so a worker's stream of calls costs one map lookup each.
 * With a JWKS file the memory is dropped whenever the file's keys change, so a token signed by a removed key is
 * refused within a second; with a JWKS URL, keys and validated tokens are kept at most a minute.
 */
import fs from "node:fs";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { UnauthenticatedError } from "./errors";

export interface OAuthSettings {
  issuer: string;
  audience: string;
  /** keys from an HTTP(S) JWKS endpoint … */
  jwksUrl?: string;
  /** … or from a local JWKS file */
  jwksFile?: string;
  /** seconds of clock skew tolerated on exp / nbf / iat */
  clockToleranceSeconds?: number;
}

/** Signature algorithms a token may use: asymmetric only (never `none`, never a shared secret). */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
const MAX_REMEMBERED = 10_000;
/** how often (ms) the JWKS file is read again to see whether its keys changed */
const FILE_CHECK_MS = 1000;
/** with a JWKS URL: how long fetched keys, and tokens validated with them, are trusted without a new look */
const URL_KEYS_MS = 60_000;

/** Who a validated token names, and until when (epoch ms) it may be used. */
export interface TokenCaller {
  readonly principal: string;
  readonly untilMs: number;
}

export class OAuthValidator {
  private keys: JWTVerifyGetKey;
  private readonly remembered = new Map<string, TokenCaller>();
  private fileText = "";
  private fileCheckedMs = 0;
  /** bumped whenever the keys change: a validation that began with older keys is not remembered */
  private keysGeneration = 0;

  constructor(private readonly settings: OAuthSettings) {
    if (!settings.issuer) throw new Error("OAuth needs an issuer (--oauth-issuer)");
    if (!settings.audience) throw new Error("OAuth needs an audience (--oauth-audience)");
    if (settings.jwksFile) {
      this.keys = this.readKeyFile();
    } else if (settings.jwksUrl) {
      this.keys = createRemoteJWKSet(new URL(settings.jwksUrl), { cacheMaxAge: URL_KEYS_MS });
    } else {
      throw new Error("OAuth needs keys: --oauth-jwks-url or --oauth-jwks-file");
    }
  }

  private readKeyFile(text = fs.readFileSync(this.settings.jwksFile!, "utf8")): JWTVerifyGetKey {
    const file = this.settings.jwksFile!;
    let jwks: JSONWebKeySet;
    try {
      jwks = JSON.parse(text) as JSONWebKeySet;
    } catch (e) {
      throw new Error(`the JWKS file ${file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!Array.isArray(jwks.keys)) throw new Error(`the JWKS file ${file} has no "keys" array`);
    const keys = createLocalJWKSet(jwks);
    this.fileText = text;
    this.fileCheckedMs = Date.now();
    return keys;
  }

  /** Reads the JWKS file again if it changed (or `force`); forgets every remembered token when it did. */
  private refreshKeys(force: boolean): void {
    if (!this.settings.jwksFile) return;
    const now = Date.now();
    if (!force && now - this.fileCheckedMs < FILE_CHECK_MS) return;
    this.fileCheckedMs = now;
    let text: string;
    try {
      text = fs.readFileSync(this.settings.jwksFile, "utf8");
    } catch {
      return; // keep the keys we have while the file is being replaced
    }
    if (text === this.fileText) return;
    try {
      this.keys = this.readKeyFile(text);
      this.keysGeneration++;
      this.remembered.clear();
    } catch {
      // a half-written file: keep the previous keys and look again next time
    }
  }

  /** Who a bearer token names, and until when; UnauthenticatedError when the token is not valid. */
  callerOf(token: string): TokenCaller | Promise<TokenCaller> {
    this.refreshKeys(false);
    const known = this.remembered.get(token);
    if (known !== undefined) {
      if (Date.now() < known.untilMs) return known;
      this.remembered.delete(token);
    }
    return this.verify(token, true);
  }

  private async verify(token: string, retryOnUnknownKey: boolean): Promise<TokenCaller> {
    const generation = this.keysGeneration;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: ALGORITHMS,
        clockTolerance: this.settings.clockToleranceSeconds ?? 5,
        requiredClaims: ["exp"],
      }));
    } catch (e) {
      if (retryOnUnknownKey && e instanceof errors.JWKSNoMatchingKey && this.settings.jwksFile) {
        // perhaps signed with a key added to the file a moment ago
        this.refreshKeys(true);
        return this.verify(token, false);
      }
      throw new UnauthenticatedError(whyRefused(e));
    }
    const expMs = payload.exp! * 1000;
    const caller: TokenCaller = {
      principal: principalClaim(payload),
      untilMs: this.settings.jwksFile ? expMs : Math.min(expMs, Date.now() + URL_KEYS_MS),
    };
    // keys that changed while this token was being checked may no longer vouch for it: do not remember it
    if (generation !== this.keysGeneration) return caller;
    if (this.remembered.size >= MAX_REMEMBERED) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
    this.remembered.set(token, caller);
    return caller;
  }
}

function principalClaim(payload: JWTPayload): string {
  const clientId = payload.client_id;
  if (typeof clientId === "string" && clientId !== "") return clientId;
  if (typeof payload.sub === "string" && payload.sub !== "") return payload.sub;
  throw new UnauthenticatedError(
    "the bearer token names no principal: it has neither a client_id nor a sub claim",
  );
}

function whyRefused(e: unknown): string {
  if (e instanceof errors.JWTExpired) return "the bearer token has expired";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return "the bearer token is not valid yet (nbf is in the future)";
    if (e.claim === "iss") return "the bearer token was not issued by the configured issuer";
    if (e.claim === "aud") return "the bearer token is not meant for this server (wrong audience)";
    if (e.claim === "exp") return "the bearer token has no expiry (exp claim)";
    return `the bearer token's ${e.claim} claim is not acceptable: ${e.reason}`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed)
    return "the bearer token's signature does not verify with the configured keys";
  if (e instanceof errors.JWKSNoMatchingKey)
    return "the bearer token is signed with a key the server does not know";
  if (e instanceof errors.JOSEAlgNotAllowed)
    return "the bearer token uses a signature algorithm that is not allowed";
  if (e instanceof errors.JWKSTimeout) return "the JWKS endpoint did not answer in time";
  if (e instanceof errors.JOSEError) return `the bearer token is not a valid JWT (${e.message})`;
  return `the bearer token could not be validated: ${e instanceof Error ? e.message : String(e)}`;
}
