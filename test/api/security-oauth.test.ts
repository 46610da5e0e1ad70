/**
 * B-SEC-3 OAuth bearer tokens: a server started with --oauth-issuer / --oauth-audience / --oauth-jwks-file
 * names each caller by its token (client_id for machine tokens, sub for human ones) and refuses every token
 * that is not valid with UNAUTHENTICATED, storing nothing for the refused call.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevIssuer } from "../../examples/oauth-dev-issuer/issuer";
import { startTestServer, type TestServer } from "../support/server";
import { statusOf, type TestClient } from "../support/client";
import { TestIssuer } from "../support/oauth";
import { taskDef } from "../support/specs";

let issuer: TestIssuer;
let ts: TestServer;
let admin: TestClient;

beforeAll(async () => {
  issuer = await TestIssuer.create();
  ts = await startTestServer({ extraArgs: [...issuer.serverArgs(), "--bootstrap-admin", "admin"] });
  admin = ts.client(undefined, { token: await issuer.token("admin") });
});

afterAll(async () => {
  await ts?.close();
  issuer?.close();
});

/** A client sending exactly this authorization token (or none). */
function withToken(token: string | undefined): TestClient {
  return ts.client(undefined, { token });
}

/** The TaskDef a refused caller tried to create must not exist afterwards. */
async function expectNoTaskDef(name: string) {
  expect((await admin.fail("GetTaskDef", { name })).code).toBe("NOT_FOUND");
}

describe("B-SEC-3 OAuth bearer tokens", () => {
  it("B-SEC-3 a valid machine token names its client_id; a human token names its sub", async () => {
    expect((await admin.call("Whoami", {})).id.id).toBe("admin");
    const human = withToken(await issuer.token("ada@example.com", { human: true }));
    expect((await human.call("Whoami", {})).id.id).toBe("ada@example.com");
  });

  it("B-SEC-3 the bootstrap admin may do everything; its calls are stored", async () => {
    await admin.call("PutTaskDef", taskDef("oauth-ok"));
    expect((await admin.call("GetTaskDef", { name: "oauth-ok" })).id.name).toBe("oauth-ok");
  });

  const refused: [string, (i: TestIssuer) => Promise<string | undefined> | string | undefined, RegExp][] = [
    ["missing", () => undefined, /authentication is required/],
    ["expired", (i) => i.token("admin", { expiresIn: -60 }), /expired/],
    ["not yet valid", (i) => i.token("admin", { notBefore: 3600 }), /not valid yet/],
    ["from the wrong issuer", (i) => i.token("admin", { issuer: "https://evil.test" }), /issuer/],
    ["for the wrong audience", (i) => i.token("admin", { audience: "someone-else" }), /audience/],
    [
      "signed with a key the JWKS does not have",
      async (i) => i.token("admin", { key: await i.strangerKey() }),
      /key/,
    ],
    [
      "with a known key id but a signature of another key",
      async (i) => i.token("admin", { key: { ...(await i.strangerKey()), kid: i.current.kid } }),
      /signature does not verify/,
    ],
    ["HMAC-signed with the issuer's public key (HS256)", (i) => i.hmacWithPublicKey("admin"), /algorithm/],
    ["unsigned (alg: none)", (i) => i.unsignedToken("admin"), /not a valid JWT|algorithm|signature/],
    ["naming the anonymous principal", (i) => i.token("anonymous"), /anonymous/],
    ["garbage", () => "not.a.jwt", /not a valid JWT/],
  ];
  for (const [what, make, why] of refused) {
    it(`B-SEC-3 a token ${what} is UNAUTHENTICATED and nothing is stored`, async () => {
      const c = withToken(await make(issuer));
      const name = `oauth-refused-${what.replace(/\W+/g, "-")}`;
      const put = await c.fail("PutTaskDef", taskDef(name));
      expect(put.code).toBe("UNAUTHENTICATED");
      expect(put.message).toMatch(why);
      expect((await c.fail("Whoami", {})).code).toBe("UNAUTHENTICATED");
      await expectNoTaskDef(name);
    });
  }

  it("B-SEC-3 an authorization header that is not 'Bearer <token>' is UNAUTHENTICATED", async () => {
    const c = ts.client();
    const md = () => {
      const m = c.metadata();
      m.set("authorization", "Basic YWRtaW46YWRtaW4=");
      return m;
    };
    const outcome = await statusOf(
      new Promise((resolve, reject) =>
        c.raw.Whoami({}, md(), (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))),
      ),
    );
    expect(outcome.code).toBe("UNAUTHENTICATED");
    expect(outcome.message).toMatch(/Bearer/);
  });

  it("B-SEC-3 a valid token of a principal nobody created gets no rights: PERMISSION_DENIED, saying so", async () => {
    const stranger = withToken(await issuer.token("nobody-yet"));
    const me = await stranger.call("Whoami", {});
    expect(me.id.id).toBe("nobody-yet");
    expect(me.global_acls?.acls ?? []).toEqual([]);
    const denied = await stranger.fail("PutTaskDef", taskDef("oauth-stranger"));
    expect(denied.code).toBe("PERMISSION_DENIED");
    expect(denied.message).toMatch(/nobody-yet/);
    expect(denied.message).toMatch(/PutPrincipal/);
    await expectNoTaskDef("oauth-stranger");
    // once an admin creates it, the same token works
    await admin.call("PutPrincipal", {
      id: "nobody-yet",
      global_acls: { acls: [{ resources: ["ACL_TASK"], allowed_actions: ["ALL_ACTIONS"] }] },
    });
    await stranger.call("PutTaskDef", taskDef("oauth-stranger"));
  });

  it("B-SEC-3 rotating the key in the JWKS file: new-key tokens work at once, tokens of a removed key are refused", async () => {
    const oldToken = await issuer.token("admin");
    expect((await withToken(oldToken).call("Whoami", {})).id.id).toBe("admin"); // remembered by the server
    // a key added to the file is picked up for the first token that uses it
    await issuer.rotate(false);
    const newToken = await issuer.token("admin");
    expect((await withToken(newToken).call("Whoami", {})).id.id).toBe("admin");
    expect((await withToken(oldToken).call("Whoami", {})).id.id).toBe("admin");
    // once the old key leaves the file, its tokens (even one the server validated before) are refused
    await issuer.rotate(true);
    const outcome = await waitForRefusal(oldToken);
    expect(outcome.code).toBe("UNAUTHENTICATED");
    expect((await withToken(await issuer.token("admin")).call("Whoami", {})).id.id).toBe("admin");
    admin.token = await issuer.token("admin");
  });
});

/** The server looks at the JWKS file at most once a second: wait until the old token is refused. */
async function waitForRefusal(token: string): Promise<{ code: string; message: string }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const outcome = await statusOf(withToken(token).call("Whoami", {}));
    if (outcome.code !== "OK" || Date.now() > deadline) return outcome;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("B-SEC-3 keys from a JWKS URL", () => {
  it("B-SEC-3 --oauth-jwks-url: tokens signed by the issuer's published key are accepted, others refused", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-jwks-url-"));
    const dev = await startDevIssuer({ port: 0, dir, audience: "pony", clients: { ops: "ops-secret" } });
    const server = await startTestServer({
      extraArgs: [
        "--oauth-issuer",
        dev.issuer,
        "--oauth-audience",
        "pony",
        "--oauth-jwks-url",
        `http://127.0.0.1:${dev.port}/.well-known/jwks.json`,
        "--bootstrap-admin",
        "ops",
      ],
    });
    try {
      const res = await fetch(dev.tokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: "ops",
          client_secret: "ops-secret",
        }),
      });
      const { access_token } = (await res.json()) as { access_token: string };
      const ops = server.client(undefined, { token: access_token });
      expect((await ops.call("Whoami", {})).id.id).toBe("ops");
      await ops.call("PutTaskDef", taskDef("jwks-url-task"));
      // the test issuer's key is not the one the URL publishes
      const foreign = server.client(undefined, { token: await issuer.token("ops") });
      expect((await foreign.fail("Whoami", {})).code).toBe("UNAUTHENTICATED");
    } finally {
      await server.close();
      await dev.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
