/**
 * A test OAuth issuer: RSA signing keys in a local JWKS file (what the server's --oauth-jwks-file reads) and
 * tokens signed with them, like an identity provider's. Keys can be rotated in the file while a server runs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from "jose";

export const ISSUER = "https://issuer.pony.test";
export const AUDIENCE = "pony-api";

export interface Key {
  kid: string;
  privateKey: CryptoKey;
  /** the public key as PEM (SPKI) */
  publicPem: string;
  jwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, publicPem: await exportSPKI(publicKey), jwk };
}

export interface TokenOptions {
  /** `client_id` (a machine token) unless `human` */
  human?: boolean;
  issuer?: string;
  audience?: string;
  /** seconds from now; negative = already expired */
  expiresIn?: number;
  /** seconds from now before which the token is not valid */
  notBefore?: number;
  /** sign with this key instead of the current one */
  key?: Key;
}

export class TestIssuer {
  readonly dir: string;
  readonly jwksFile: string;
  private keys: Key[] = [];
  private counter = 0;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-oauth-"));
    this.jwksFile = path.join(this.dir, "jwks.json");
  }

  static async create(): Promise<TestIssuer> {
    const issuer = new TestIssuer();
    await issuer.rotate(false);
    return issuer;
  }

  /** The signing key tokens use now. */
  get current(): Key {
    return this.keys[this.keys.length - 1]!;
  }

  /** A key the JWKS file never lists. */
  async strangerKey(): Promise<Key> {
    return newKey("stranger");
  }

  /** Adds a new signing key; `dropOld` removes the previous ones from the JWKS file. */
  async rotate(dropOld: boolean): Promise<Key> {
    const key = await newKey(`k${++this.counter}`);
    this.keys = dropOld ? [key] : [...this.keys, key];
    // write then rename, as a deployment would, so the server never reads half a file
    const tmp = `${this.jwksFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    fs.renameSync(tmp, this.jwksFile);
    return key;
  }

  /** Server flags that trust this issuer. */
  serverArgs(): string[] {
    return ["--oauth-issuer", ISSUER, "--oauth-audience", AUDIENCE, "--oauth-jwks-file", this.jwksFile];
  }

  /** A signed access token naming `principal`. */
  async token(principal: string, o: TokenOptions = {}): Promise<string> {
    const key = o.key ?? this.current;
    const now = Math.floor(Date.now() / 1000);
    const jwt = new SignJWT(o.human ? { scope: "openid" } : { client_id: principal })
      .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + (o.expiresIn ?? 3600));
    if (o.human) jwt.setSubject(principal);
    else jwt.setSubject(`service-account-${principal}`);
    if (o.notBefore !== undefined) jwt.setNotBefore(now + o.notBefore);
    return jwt.sign(key.privateKey);
  }

  /**
   * A token signed with HS256 using the issuer's public key as the HMAC secret: the "algorithm confusion"
   * forgery, which a server that let the token choose its algorithm would accept.
   */
  async hmacWithPublicKey(principal: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ client_id: principal })
      .setProtectedHeader({ alg: "HS256", kid: this.current.kid, typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(this.current.publicPem));
  }

  /** An unsigned token (`alg: none`) naming `principal`, as an attacker would forge it. */
  unsignedToken(principal: string): string {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    return `${b64({ alg: "none", typ: "JWT" })}.${b64({
      iss: ISSUER,
      aud: AUDIENCE,
      client_id: principal,
      sub: principal,
      iat: now,
      exp: now + 3600,
    })}.`;
  }

  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
