/**
 * Tenants and principals from the command line (B-SEC-1, B-SEC-2): `deploy tenant`, `get tenant`, `search
 * tenant`, `deploy principal` (ACL options and --file), `get principal`, `delete principal`, `search
 * principal` and `whoami`, run as a subprocess against a real server. Then, against a server that requires
 * OAuth tokens (a local token endpoint signs them), `whoami` as another principal and PERMISSION_DENIED.
 */
import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ACLAction, ACLResource, PrincipalSchema } from "@pony/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/server";
import { principalTable } from "../src/index";
import { failsWith, jsonFile, ok, pony, ponyInProcess, uniqueName, usageError } from "./support";

let ts: TestServer;
const run = (...args: string[]) => pony(ts.address, args);
const inProcess = (...args: string[]) => ponyInProcess(ts.address, args);

beforeAll(async () => {
  ts = await startTestServer();
});

afterAll(async () => {
  await ts.close();
});

/** The table `whoami` prints for the bootstrap admin `anonymous`. */
const ANONYMOUS_TABLE = new RegExp(
  "^principal {2}anonymous {2}\\(created \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC\\)\\n" +
    "SCOPE {3}RESOURCES {10}ACTIONS {6}FILTER\\n" +
    "global {2}ACL_ALL_RESOURCES {2}ALL_ACTIONS {2}-\\n$",
);

describe("tenants", () => {
  it("B-SEC-1: deploy tenant creates a Tenant, get tenant prints it, a second deploy is ALREADY_EXISTS", async () => {
    const id = uniqueName("finance");
    const created = ok(await run("deploy", "tenant", id));
    expect(created.id).toEqual({ id });
    expect(Date.parse(created.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(ok(await run("get", "tenant", id))).toEqual(created);
    failsWith(
      await run("deploy", "tenant", id),
      "ALREADY_EXISTS",
      new RegExp(`tenant '${id}' already exists`),
    );
  });

  it("B-SEC-1: get tenant of an unknown id is NOT_FOUND; a bad id is INVALID_ARGUMENT", async () => {
    const [unknown, bad, missing] = await Promise.all([
      run("get", "tenant", "no-such-tenant"),
      inProcess("deploy", "tenant", "not a tenant!"),
      inProcess("get", "tenant"),
    ]);
    failsWith(unknown, "NOT_FOUND", /tenant 'no-such-tenant' not found/);
    failsWith(bad, "INVALID_ARGUMENT", /invalid tenant id 'not a tenant!'/);
    usageError(missing, /missing required argument 'id'/);
  });

  it("B-SEC-1: search tenant lists every tenant a page at a time", async () => {
    const ids = ["pg-a", "pg-b"].map((p) => uniqueName(p));
    for (const id of ids) ok(await inProcess("deploy", "tenant", id));
    const all = ok(await run("search", "tenant"));
    for (const id of ["default", ...ids]) expect(all.results).toContainEqual({ id });

    const seen: string[] = [];
    let bookmark: string | undefined;
    do {
      const page = ok(
        await inProcess("search", "tenant", "--limit", "2", ...(bookmark ? ["--bookmark", bookmark] : [])),
      );
      expect(page.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.results.map((r: { id: string }) => r.id));
      bookmark = page.bookmark;
    } while (bookmark !== undefined);
    expect(seen).toEqual(all.results.map((r: { id: string }) => r.id));
  });
});

describe("principals", () => {
  it("B-SEC-2: deploy principal builds global and per-tenant ACLs from --acl and --tenant-acl", async () => {
    const tenant = uniqueName("acl-tenant");
    ok(await inProcess("deploy", "tenant", tenant));
    const id = uniqueName("ci-bot");
    const p = ok(
      await run(
        "deploy",
        "principal",
        id,
        "--acl",
        "ACL_TASK:READ,RUN",
        "--acl",
        "workflow,userTask:all:prefix=billing-",
        "--tenant-acl",
        `${tenant}=external-event:write_metadata:name=paid`,
        "--tenant-acl",
        `${tenant}=all:read`,
      ),
    );
    expect(p.id).toEqual({ id });
    expect(p.globalAcls.acls).toEqual([
      { resources: ["ACL_TASK"], allowedActions: ["READ", "RUN"] },
      { resources: ["ACL_WORKFLOW", "ACL_USER_TASK"], allowedActions: ["ALL_ACTIONS"], prefix: "billing-" },
    ]);
    expect(p.perTenantAcls).toEqual({
      [tenant]: {
        acls: [
          { resources: ["ACL_EXTERNAL_EVENT"], allowedActions: ["WRITE_METADATA"], name: "paid" },
          { resources: ["ACL_ALL_RESOURCES"], allowedActions: ["READ"] },
        ],
      },
    });
    expect(ok(await run("get", "principal", id))).toEqual(p);
  });

  it("B-SEC-2: deploying a principal again with other ACLs is ALREADY_EXISTS; --overwrite replaces them", async () => {
    const id = uniqueName("changing");
    const first = ok(await run("deploy", "principal", id, "--acl", "task:read"));
    // the same ACLs again: accepted, nothing changes
    expect(ok(await inProcess("deploy", "principal", id, "--acl", "ACL_TASK:READ"))).toEqual(first);
    failsWith(
      await run("deploy", "principal", id, "--acl", "task:run"),
      "ALREADY_EXISTS",
      new RegExp(`principal '${id}' already exists with other ACLs`),
    );
    const replaced = ok(await run("deploy", "principal", id, "--acl", "task:run", "--overwrite"));
    expect(replaced.globalAcls.acls).toEqual([{ resources: ["ACL_TASK"], allowedActions: ["RUN"] }]);
    expect(replaced.createdAt).toBe(first.createdAt);
  });

  it("B-SEC-2: --admin makes an admin; search principal --admin finds it; delete principal removes it", async () => {
    const id = uniqueName("ops-admin");
    const admin = ok(await run("deploy", "principal", id, "--admin"));
    expect(admin.globalAcls.acls).toEqual([
      { resources: ["ACL_ALL_RESOURCES"], allowedActions: ["ALL_ACTIONS"] },
    ]);
    const [admins, others] = await Promise.all([
      run("search", "principal", "--admin"),
      run("search", "principal", "--not-admin"),
    ]);
    expect(ok(admins).results).toContainEqual({ id });
    expect(ok(admins).results).toContainEqual({ id: "anonymous" });
    expect(ok(others).results).not.toContainEqual({ id });

    expect(ok(await run("delete", "principal", id))).toEqual({});
    failsWith(await run("get", "principal", id), "NOT_FOUND", new RegExp(`principal '${id}' not found`));
    failsWith(await inProcess("delete", "principal", id), "NOT_FOUND");
  });

  it("B-SEC-2: deleting the last admin `anonymous` is FAILED_PRECONDITION, and so is taking its admin ACL away", async () => {
    expect(ok(await run("search", "principal", "--admin")).results).toEqual([{ id: "anonymous" }]);
    failsWith(
      await run("delete", "principal", "anonymous"),
      "FAILED_PRECONDITION",
      /principal 'anonymous' is the last admin/,
    );
    failsWith(
      await inProcess("deploy", "principal", "anonymous", "--acl", "task:read", "--overwrite"),
      "FAILED_PRECONDITION",
      /last admin/,
    );
    expect(ok(await run("get", "principal", "anonymous")).globalAcls.acls).toEqual([
      { resources: ["ACL_ALL_RESOURCES"], allowedActions: ["ALL_ACTIONS"] },
    ]);
  });

  it("B-SEC-2: deploy principal --file sends a PutPrincipalRequest in protobuf JSON (or stdin)", async () => {
    const id = uniqueName("from-file");
    const request = {
      id,
      globalAcls: { acls: [{ resources: ["ACL_WORKFLOW"], allowedActions: ["RUN"], name: "checkout" }] },
    };
    const p = ok(await run("deploy", "principal", "--file", jsonFile("p.json", request)));
    expect(p.id).toEqual({ id });
    expect(p.globalAcls).toEqual(request.globalAcls);

    // from stdin, the id given as the argument, and --overwrite on top of the file
    const changed = { globalAcls: { acls: [{ resources: ["ACL_TASK"], allowedActions: ["READ"] }] } };
    const r = await pony(ts.address, ["deploy", "principal", id, "--file", "-", "--overwrite"], {
      input: JSON.stringify(changed),
    });
    expect(ok(r).globalAcls).toEqual(changed.globalAcls);
  });

  it("deploy principal refuses options that do not go together, before calling the server", async () => {
    const file = jsonFile("p.json", { id: "in-file" });
    const [aclAndFile, otherId, noId, noIdInFile, notRequest] = await Promise.all([
      inProcess("deploy", "principal", "--file", file, "--acl", "task:read"),
      inProcess("deploy", "principal", "other", "--file", file),
      inProcess("deploy", "principal", "--acl", "task:read"),
      inProcess("deploy", "principal", "--file", jsonFile("q.json", {})),
      inProcess("deploy", "principal", "--file", jsonFile("r.json", { id: "x", acls: [] })),
    ]);
    usageError(aclAndFile, /--file holds the whole request/);
    usageError(otherId, /the id 'other' is not the id in .*p\.json \('in-file'\)/);
    usageError(noId, /missing required argument 'id' \(or give --file\)/);
    usageError(noIdInFile, /give the principal's id/);
    usageError(notRequest, /is not a PutPrincipalRequest in protobuf JSON/);
  });

  it("B-SEC-2: an unknown ACL word or a malformed spec is a usage error (exit 2) naming what is accepted", async () => {
    // one as a real process: the exit code and the whole message
    const r = await run("deploy", "principal", "x", "--acl", "ACL_TASK:READ,FLY");
    usageError(r, /option '--acl <spec>' argument 'ACL_TASK:READ,FLY' is invalid\. unknown action 'FLY'/);
    expect(r.stderr).toContain(
      "use READ, RUN, WRITE_METADATA, ALL_ACTIONS, or read, run, write_metadata, all",
    );

    const cases: [string[], RegExp][] = [
      [["--acl", "tasks:read"], /unknown resource 'tasks': use ACL_WORKFLOW, ACL_TASK, .*, or all\./],
      [["--acl", "task"], /expected <resources>:<actions>\[:name=<name>\|:prefix=<prefix>\]/],
      [["--acl", "task,,workflow:read"], /an empty resource/],
      [["--acl", "task:"], /an empty action/],
      [
        ["--acl", "task:read:nmae=x"],
        /the filter after the actions is name=<name> or prefix=<prefix>, not 'nmae=x'/,
      ],
      [["--acl", "task:read:prefix="], /prefix= needs a value/],
      [["--tenant-acl", "task:read"], /expected <tenant>=<resources>:<actions>/],
      [["--tenant-acl", "finance=task:admin"], /unknown action 'admin'/],
      [["--tenant-acl", "=task:read"], /expected <tenant>=/],
    ];
    const results = await Promise.all(cases.map(([args]) => inProcess("deploy", "principal", "x", ...args)));
    results.forEach((res, i) => usageError(res, cases[i]![1]));
  });

  it("B-SEC-2: the server refuses ACLs it cannot keep: an unknown tenant, a global resource in a tenant", async () => {
    const tenant = uniqueName("t");
    ok(await inProcess("deploy", "tenant", tenant));
    const [unknownTenant, clusterInTenant] = await Promise.all([
      run("deploy", "principal", uniqueName("p"), "--tenant-acl", "no-such-tenant=task:read"),
      inProcess("deploy", "principal", uniqueName("p"), "--tenant-acl", `${tenant}=principal:read`),
    ]);
    failsWith(unknownTenant, "INVALID_ARGUMENT", /tenant 'no-such-tenant', which does not exist/);
    failsWith(clusterInTenant, "INVALID_ARGUMENT", /ACL_PRINCIPAL is cluster-scoped/);
  });

  it("B-SEC-2: search principal by tenant and by creation time, a page at a time", async () => {
    const tenant = uniqueName("srch-tenant");
    ok(await inProcess("deploy", "tenant", tenant));
    const early = ok(
      await run("deploy", "principal", uniqueName("early"), "--tenant-acl", `${tenant}=task:read`),
    );
    await new Promise((r) => setTimeout(r, 20));
    const late = ok(await run("deploy", "principal", uniqueName("late"), "--acl", "workflow:read"));
    const outsider = ok(await inProcess("deploy", "principal", uniqueName("outsider")));

    const inTenant = ok(await run("search", "principal", "--tenant", tenant)).results;
    expect(inTenant).toContainEqual(early.id);
    expect(inTenant).toContainEqual(late.id); // global ACLs work in every tenant
    expect(inTenant).not.toContainEqual(outsider.id);

    const [from, until, between] = await Promise.all([
      run("search", "principal", "--earliest", late.createdAt),
      run("search", "principal", "--latest", early.createdAt),
      run("search", "principal", "--earliest", early.createdAt, "--latest", early.createdAt),
    ]);
    expect(ok(from).results).toContainEqual(late.id);
    expect(ok(from).results).not.toContainEqual(early.id);
    expect(ok(until).results).toContainEqual(early.id);
    expect(ok(until).results).toContainEqual({ id: "anonymous" });
    expect(ok(until).results).not.toContainEqual(late.id);
    expect(ok(between).results).toEqual([early.id]);
    // a date alone is midnight UTC; a time without an offset is UTC too
    expect(ok(await inProcess("search", "principal", "--latest", "2000-01-01")).results ?? []).toEqual([]);
    expect(
      ok(await inProcess("search", "principal", "--earliest", "2999-12-31 23:59")).results ?? [],
    ).toEqual([]);

    const first = ok(await run("search", "principal", "--limit", "1"));
    expect(first.results).toHaveLength(1);
    const second = ok(await run("search", "principal", "--limit", "1", "--bookmark", first.bookmark));
    expect(second.results).toHaveLength(1);
    expect(second.results[0].id > first.results[0].id).toBe(true);
  });

  it("search principal refuses two criteria and a malformed time", async () => {
    const [two, badDate, notATime, bookmark] = await Promise.all([
      inProcess("search", "principal", "--admin", "--tenant", "default"),
      inProcess("search", "principal", "--earliest", "2026-02-30"),
      inProcess("search", "principal", "--latest", "yesterday"),
      inProcess("search", "principal", "--bookmark", "not base64!"),
    ]);
    usageError(two, /give at most one of --admin, --not-admin, --tenant/);
    usageError(
      badDate,
      /option '--earliest <time>' argument '2026-02-30' is invalid\. expected an ISO 8601 date/,
    );
    usageError(notATime, /option '--latest <time>' argument 'yesterday' is invalid/);
    usageError(bookmark, /expected the base64 bookmark/);
  });
});

describe("whoami", () => {
  it("B-SEC-2: whoami prints the caller's principal and its ACLs as a table", async () => {
    const r = await run("whoami");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(ANONYMOUS_TABLE);
  });

  it("whoami --json prints the Principal as protobuf JSON", async () => {
    const p = ok(await run("whoami", "--json"));
    expect(p.id).toEqual({ id: "anonymous" });
    expect(p.globalAcls.acls).toEqual([
      { resources: ["ACL_ALL_RESOURCES"], allowedActions: ["ALL_ACTIONS"] },
    ]);
  });

  it("the table lists global ACLs, then each tenant's by name, with their filters", () => {
    const principal = create(PrincipalSchema, {
      id: { id: "ada" },
      createdAt: timestampFromMs(Date.UTC(2026, 11, 6, 6, 30, 12, 345)),
      globalAcls: {
        acls: [
          {
            resources: [ACLResource.ACL_TASK, ACLResource.ACL_WORKFLOW],
            allowedActions: [ACLAction.READ, ACLAction.RUN],
          },
        ],
      },
      perTenantAcls: {
        sales: {
          acls: [
            {
              resources: [ACLResource.ACL_USER_TASK],
              allowedActions: [ACLAction.ALL_ACTIONS],
              resourceFilter: { case: "name", value: "approve" },
            },
          ],
        },
        finance: {
          acls: [
            {
              resources: [ACLResource.ACL_WORKFLOW],
              allowedActions: [ACLAction.WRITE_METADATA],
              resourceFilter: { case: "prefix", value: "billing-" },
            },
          ],
        },
      },
    });
    expect(principalTable(principal)).toBe(
      [
        "principal  ada  (created 2026-12-06 06:30:12 UTC)",
        "SCOPE    RESOURCES              ACTIONS         FILTER",
        "global   ACL_TASK,ACL_WORKFLOW  READ,RUN        -",
        "finance  ACL_WORKFLOW           WRITE_METADATA  prefix=billing-",
        "sales    ACL_USER_TASK          ALL_ACTIONS     name=approve",
        "",
      ].join("\n"),
    );
    expect(principalTable(create(PrincipalSchema, { id: { id: "nobody" } }))).toBe(
      "principal  nobody  (not stored on the server)\nno ACLs: this principal may do nothing\n",
    );
  });
});

/**
 * A server that requires OAuth: its keys are a local JWKS file, and a token endpoint here hands out a token
 * for whatever client id asks (the CLI fetches it through LHC_OAUTH_*). `root-bot` is its bootstrap admin.
 */
describe("with OAuth: ACLs are enforced", () => {
  const ISSUER = "https://issuer.pony.test";
  const AUDIENCE = "pony-cli-test";
  let secured: TestServer;
  let tokenServer: http.Server;
  let tokenUrl: string;

  const as = (clientId: string, ...args: string[]) =>
    pony(secured.address, args, {
      env: {
        LHC_OAUTH_CLIENT_ID: clientId,
        LHC_OAUTH_CLIENT_SECRET: "secret",
        LHC_OAUTH_ACCESS_TOKEN_URL: tokenUrl,
      },
    });

  beforeAll(async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwks = jsonFile("jwks.json", {
      keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" }],
    });
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const sign = (claims: object) => {
      const input = `${b64({ alg: "RS256", typ: "JWT", kid: "k1" })}.${b64(claims)}`;
      return `${input}.${crypto.sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
    };
    tokenServer = http.createServer((req, res) => {
      const basic = (req.headers.authorization ?? "").replace(/^Basic /, "");
      const clientId = decodeURIComponent(Buffer.from(basic, "base64").toString().split(":")[0] ?? "");
      const now = Math.floor(Date.now() / 1000);
      const token = sign({ iss: ISSUER, aud: AUDIENCE, client_id: clientId, iat: now, exp: now + 300 });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 300 }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, "127.0.0.1", resolve));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    secured = await startTestServer({
      extraArgs: [
        ["--oauth-issuer", ISSUER],
        ["--oauth-audience", AUDIENCE],
        ["--oauth-jwks-file", jwks],
        ["--bootstrap-admin", "root-bot"],
      ].flat(),
    });
  });

  afterAll(async () => {
    await secured?.close();
    await new Promise((resolve) => tokenServer?.close(resolve));
  });

  it("B-SEC-2: whoami shows an OAuth principal's global and per-tenant ACLs", async () => {
    const admin = await as("root-bot", "whoami");
    expect(admin.code).toBe(0);
    expect(admin.stdout).toMatch(/^principal {2}root-bot {2}\(created .* UTC\)\n/);
    expect(admin.stdout).toContain("global  ACL_ALL_RESOURCES  ALL_ACTIONS  -\n");

    ok(await as("root-bot", "deploy", "tenant", "finance"));
    ok(
      await as(
        "root-bot",
        "deploy",
        "principal",
        "clerk",
        "--acl",
        "task:read",
        "--tenant-acl",
        "finance=user_task:all:prefix=invoice-",
      ),
    );
    const clerk = await as("clerk", "whoami");
    expect(clerk.stderr).toBe("");
    expect(clerk.stdout.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/, "<time>")).toBe(
      [
        "principal  clerk  (created <time>)",
        "SCOPE    RESOURCES      ACTIONS      FILTER",
        "global   ACL_TASK       READ         -",
        "finance  ACL_USER_TASK  ALL_ACTIONS  prefix=invoice-",
        "",
      ].join("\n"),
    );

    const stranger = await as("stranger", "whoami");
    expect(stranger.stdout).toBe(
      "principal  stranger  (not stored on the server)\nno ACLs: this principal may do nothing\n",
    );
  });

  it("B-SEC-2: what a principal's ACLs do not grant is PERMISSION_DENIED", async () => {
    ok(await as("root-bot", "deploy", "principal", "reader", "--acl", "task:read"));
    const [tenant, principal, del, search] = await Promise.all([
      as("reader", "deploy", "tenant", "not-allowed"),
      as("reader", "deploy", "principal", "mallory", "--admin"),
      as("reader", "delete", "principal", "root-bot"),
      as("reader", "search", "principal"),
    ]);
    for (const r of [tenant, principal, del, search]) failsWith(r, "PERMISSION_DENIED", /reader/);
    failsWith(await as("root-bot", "get", "principal", "mallory"), "NOT_FOUND");
  });
});
