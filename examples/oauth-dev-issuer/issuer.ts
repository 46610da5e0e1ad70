/**
 * A minimal OAuth 2.0 issuer for trying Pony's OAuth locally, in place of Keycloak, Auth0, Okta or another
 * identity provider. It knows a fixed list of clients (id and secret), and:
 *
 *   POST /token                    client-credentials grant (HTTP Basic or form credentials) → a signed JWT
 *                                  with `client_id`, `iss` = this issuer, `aud` = the audience, 1 h lifetime
 *   GET  /.well-known/jwks.json    its public signing key (for --oauth-jwks-url)
 *
 * and writes the same public key to `<dir>/jwks.json` (for --oauth-jwks-file). For development only: the
 * secrets are in the command line and the signing key lives in memory.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

export interface DevIssuerOptions {
  port: number;
  /** where jwks.json is written */
  dir: string;
  audience: string;
  /** client id → secret */
  clients: Record<string, string>;
  /** host name in the issuer URL (default localhost) */
  host?: string;
}

export interface DevIssuer {
  issuer: string;
  audience: string;
  jwksFile: string;
  tokenUrl: string;
  port: number;
  close(): Promise<void>;
}

const LIFETIME_SECONDS = 3600;

export async function startDevIssuer(o: DevIssuerOptions): Promise<DevIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "dev-1", alg: "RS256", use: "sig" }] };
  fs.mkdirSync(o.dir, { recursive: true });
  const jwksFile = path.resolve(o.dir, "jwks.json");
  fs.writeFileSync(jwksFile, JSON.stringify(jwks, null, 2));

  let issuer = "";
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: object) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/.well-known/jwks.json") return reply(200, jwks);
    if (req.method !== "POST" || req.url !== "/token") return reply(404, { error: "not_found" });
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const form = new URLSearchParams(body);
      if (form.get("grant_type") !== "client_credentials")
        return reply(400, { error: "unsupported_grant_type" });
      let id = form.get("client_id") ?? "";
      let secret = form.get("client_secret") ?? "";
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
      if (basic) {
        const [u = "", p = ""] = Buffer.from(basic[1]!, "base64").toString().split(":");
        id = decodeURIComponent(u);
        secret = decodeURIComponent(p);
      }
      if (o.clients[id] === undefined || o.clients[id] !== secret)
        return reply(401, { error: "invalid_client" });
      new SignJWT({ client_id: id })
        .setProtectedHeader({ alg: "RS256", kid: "dev-1", typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(o.audience)
        .setSubject(id)
        .setIssuedAt()
        .setExpirationTime(`${LIFETIME_SECONDS}s`)
        .sign(privateKey)
        .then(
          (token) => reply(200, { access_token: token, token_type: "Bearer", expires_in: LIFETIME_SECONDS }),
          (e: unknown) => reply(500, { error: "server_error", error_description: String(e) }),
        );
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host === undefined ? "127.0.0.1" : o.host, () => {
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : o.port);
    });
  });
  issuer = `http://${o.host ?? "localhost"}:${port}`;
  return {
    issuer,
    audience: o.audience,
    jwksFile,
    tokenUrl: `http://127.0.0.1:${port}/token`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
