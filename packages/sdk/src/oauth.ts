/**
 * OAuth2 client-credentials flow for the `authorization: Bearer …` header: a token is fetched from the
 * token endpoint with Node's fetch, shared by every call while it is valid, and fetched again shortly before
 * it expires. Concurrent calls wait for the same request.
 */

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  accessTokenUrl: string;
}

/** Raised when the token endpoint cannot be reached or answers without an access token. */
export class LHOAuthError extends Error {
  override readonly name = "LHOAuthError";

  constructor(
    message: string,
    /** the endpoint's HTTP status, when it answered */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

interface CachedToken {
  accessToken: string;
  /** epoch ms after which the token is no longer used */
  refreshAtMs: number;
}

/** Tokens without `expires_in` are kept this long. */
const DEFAULT_LIFETIME_MS = 5 * 60_000;
/** A token is replaced this long before it expires (or after 90% of its life, if that is sooner). */
const REFRESH_MARGIN_MS = 30_000;

export class OAuthTokenSource {
  private cached: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;

  constructor(
    private readonly settings: OAuthSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid access token, from the cache when it still has time left. */
  async accessToken(): Promise<string> {
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAtMs) return cached.accessToken;
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = undefined;
    });
    const token = await this.inflight;
    this.cached = token;
    return token.accessToken;
  }

  /** Forgets the cached token (e.g. after the server answered UNAUTHENTICATED). */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetchToken(): Promise<CachedToken> {
    const { clientId, clientSecret, accessTokenUrl } = this.settings;
    const startedMs = this.now();
    let res: Response;
    try {
      res = await fetch(accessTokenUrl, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString("base64")}`,
        },
        body: new URLSearchParams({ grant_type: "client_credentials" }).toString(),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (e) {
      throw new LHOAuthError(
        `cannot reach the OAuth token endpoint ${accessTokenUrl}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    const text = await res.text();
    if (!res.ok) {
      throw new LHOAuthError(
        `the OAuth token endpoint ${accessTokenUrl} answered ${res.status}: ${text.slice(0, 200)}`,
        res.status,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new LHOAuthError(`the OAuth token endpoint ${accessTokenUrl} did not answer JSON`);
    }
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const accessToken = fields.access_token;
    if (typeof accessToken !== "string" || accessToken === "") {
      throw new LHOAuthError(`the OAuth token endpoint ${accessTokenUrl} answered without an access_token`);
    }
    const expiresIn = Number(fields.expires_in);
    const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : DEFAULT_LIFETIME_MS;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs * 0.1);
    return { accessToken, refreshAtMs: startedMs + lifetimeMs - margin };
  }
}
