/**
 * B-SEC-2 B-SEC-3 principals: PutPrincipal (overwrite and ALREADY_EXISTS), GetPrincipal, DeletePrincipal,
 * SearchPrincipal with its filters, Whoami, the last-admin rule, and that all of it survives a restart.
 * Without authentication every caller is the `anonymous` admin principal, stored at the first start.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server";
import type { Msg, TestClient } from "../support/client";

let ts: TestServer;
let c: TestClient;

const ADMIN_ACLS = { acls: [{ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"] }] };
const READER_ACLS = { acls: [{ resources: ["ACL_WORKFLOW"], allowed_actions: ["READ"] }] };
const tsMs = (t: Msg) => Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
const at = (ms: number): Msg => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

beforeAll(async () => {
  ts = await startTestServer();
  c = ts.client();
  await c.call("PutTenant", { id: "acme" });
});

afterAll(async () => {
  await ts?.close();
});

const ids = async (req: Msg) => (await c.call("SearchPrincipal", req)).results.map((p: Msg) => p.id);

describe("B-SEC-3 without authentication", () => {
  it("B-SEC-3 every caller is the anonymous admin, stored at the first start with a created_at that stays", async () => {
    const me = await c.call("Whoami", {});
    expect(me.id.id).toBe("anonymous");
    expect(me.global_acls.acls).toEqual([
      expect.objectContaining({ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"] }),
    ]);
    expect(await c.call("GetPrincipal", { id: "anonymous" })).toEqual(me);
    const dataDir = ts.dataDir;
    await ts.stop();
    ts = await startTestServer({ dataDir });
    c = ts.client();
    const again = await c.call("Whoami", {});
    expect(again.created_at).toEqual(me.created_at);
  });
});

describe("B-SEC-2 principals", () => {
  it("B-SEC-2 PutPrincipal stores global and per-tenant ACLs; GetPrincipal reads them back", async () => {
    const p = await c.call("PutPrincipal", {
      id: "ops-bot",
      global_acls: READER_ACLS,
      per_tenant_acls: {
        acme: { acls: [{ resources: ["ACL_TASK"], allowed_actions: ["RUN"], name: "charge" }] },
      },
    });
    expect(p.id.id).toBe("ops-bot");
    expect(tsMs(p.created_at)).toBeGreaterThan(Date.now() - 60_000);
    const got = await c.call("GetPrincipal", { id: "ops-bot" });
    expect(got).toEqual(p);
    expect(got.per_tenant_acls.acme.acls[0]).toMatchObject({ resources: ["ACL_TASK"], name: "charge" });
  });

  it("B-SEC-2 PutPrincipal of an existing id: same ACLs answer it, other ACLs need overwrite (ALREADY_EXISTS)", async () => {
    await c.call("PutPrincipal", { id: "dup", global_acls: READER_ACLS });
    const first = await c.call("GetPrincipal", { id: "dup" });
    expect(await c.call("PutPrincipal", { id: "dup", global_acls: READER_ACLS })).toEqual(first);
    const refused = await c.fail("PutPrincipal", { id: "dup", global_acls: ADMIN_ACLS });
    expect(refused.code).toBe("ALREADY_EXISTS");
    expect(refused.message).toMatch(/overwrite/);
    expect(await c.call("GetPrincipal", { id: "dup" })).toEqual(first);
    const replaced = await c.call("PutPrincipal", { id: "dup", global_acls: ADMIN_ACLS, overwrite: true });
    expect(replaced.global_acls.acls[0].allowed_actions).toEqual(["ALL_ACTIONS"]);
    expect(replaced.created_at).toEqual(first.created_at);
  });

  it("B-SEC-2 bad ACLs and ids are INVALID_ARGUMENT and store nothing", async () => {
    const bad: [Msg, RegExp][] = [
      [{ id: "" }, /id is required/],
      [{ id: "x\u0001y" }, /control characters/],
      [{ id: "p1", global_acls: { acls: [{ resources: [], allowed_actions: ["READ"] }] } }, /resources/],
      [
        { id: "p1", global_acls: { acls: [{ resources: ["ACL_TASK"], allowed_actions: [] }] } },
        /allowed_actions/,
      ],
      [
        {
          id: "p1",
          global_acls: { acls: [{ resources: ["ACL_TASK"], allowed_actions: ["READ"], name: "" }] },
        },
        /empty/,
      ],
      [{ id: "p1", per_tenant_acls: { nowhere: READER_ACLS } }, /tenant 'nowhere'/],
      [
        {
          id: "p1",
          per_tenant_acls: { acme: { acls: [{ resources: ["ACL_TENANT"], allowed_actions: ["READ"] }] } },
        },
        /cluster-scoped/,
      ],
    ];
    for (const [req, why] of bad) {
      const e = await c.fail("PutPrincipal", req);
      expect(e.code, JSON.stringify(req)).toBe("INVALID_ARGUMENT");
      expect(e.message).toMatch(why);
    }
    expect((await c.fail("GetPrincipal", { id: "p1" })).code).toBe("NOT_FOUND");
  });

  it("B-SEC-2 DeletePrincipal removes a principal; an unknown one is NOT_FOUND", async () => {
    await c.call("PutPrincipal", { id: "temp", global_acls: READER_ACLS });
    await c.call("DeletePrincipal", { id: { id: "temp" } });
    expect((await c.fail("GetPrincipal", { id: "temp" })).code).toBe("NOT_FOUND");
    const missing = await c.fail("DeletePrincipal", { id: { id: "temp" } });
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toMatch(/temp/);
  });

  it("B-SEC-2 the last admin can be neither deleted nor demoted (FAILED_PRECONDITION); with another admin it can", async () => {
    // make anonymous the only admin, whatever earlier tests left
    for (const id of await ids({ isAdmin: true }))
      if (id !== "anonymous") await c.call("DeletePrincipal", { id: { id } });
    await c.call("PutPrincipal", { id: "dup", global_acls: READER_ACLS, overwrite: true });
    expect(await ids({ isAdmin: true })).toEqual(["anonymous"]);
    const del = await c.fail("DeletePrincipal", { id: { id: "anonymous" } });
    expect(del.code).toBe("FAILED_PRECONDITION");
    expect(del.message).toMatch(/last admin/);
    const demote = await c.fail("PutPrincipal", {
      id: "anonymous",
      global_acls: READER_ACLS,
      overwrite: true,
    });
    expect(demote.code).toBe("FAILED_PRECONDITION");
    // a name filter makes an ACL not an admin's
    const filtered = {
      acls: [{ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"], prefix: "a" }],
    };
    expect(
      (await c.fail("PutPrincipal", { id: "anonymous", global_acls: filtered, overwrite: true })).code,
    ).toBe("FAILED_PRECONDITION");
    expect((await c.call("Whoami", {})).global_acls.acls[0].resources).toEqual(["ACL_ALL_RESOURCES"]);
    // with a second admin, either may go
    await c.call("PutPrincipal", { id: "second-admin", global_acls: ADMIN_ACLS });
    await c.call("PutPrincipal", { id: "dup", global_acls: ADMIN_ACLS, overwrite: true });
    await c.call("DeletePrincipal", { id: { id: "dup" } });
    expect(await ids({ isAdmin: true })).toEqual(["anonymous", "second-admin"]);
    // anonymous is still an admin, so second-admin may go too
    await c.call("DeletePrincipal", { id: { id: "second-admin" } });
    expect(await ids({ isAdmin: true })).toEqual(["anonymous"]);
  });

  it("B-SEC-2 SearchPrincipal filters by admin, by tenant and by creation time, and pages by id", async () => {
    await c.call("PutPrincipal", {
      id: "acme-only",
      per_tenant_acls: { acme: READER_ACLS },
    });
    const all = await ids({});
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(["acme-only", "anonymous", "ops-bot"]));
    expect(await ids({ isAdmin: true })).toEqual(["anonymous"]);
    expect(await ids({ isAdmin: false })).not.toContain("anonymous");
    // a tenant's principals: those with ACLs there, and those whose global ACLs reach every tenant
    const inAcme = await ids({ tenantId: "acme" });
    expect(inAcme).toEqual(expect.arrayContaining(["acme-only", "anonymous", "ops-bot"]));
    expect(await ids({ tenantId: "default" })).not.toContain("acme-only");
    const created = tsMs((await c.call("GetPrincipal", { id: "acme-only" })).created_at);
    expect(await ids({ earliest_start: at(created), latest_start: at(created) })).toContain("acme-only");
    expect(await ids({ earliest_start: at(created + 1) })).not.toContain("acme-only");
    const page1 = await c.call("SearchPrincipal", { limit: 1 });
    expect(page1.results.map((p: Msg) => p.id)).toEqual([all[0]]);
    const page2 = await c.call("SearchPrincipal", { limit: 100, bookmark: page1.bookmark });
    expect(page2.results.map((p: Msg) => p.id)).toEqual(all.slice(1));
    expect((await c.fail("SearchPrincipal", { limit: 1, bookmark: Buffer.from("junk") })).code).toBe(
      "INVALID_ARGUMENT",
    );
  });

  it("B-SEC-2 principals survive a restart", async () => {
    const before = await c.call("GetPrincipal", { id: "ops-bot" });
    const dataDir = ts.dataDir;
    await ts.stop();
    ts = await startTestServer({ dataDir });
    c = ts.client();
    expect(await c.call("GetPrincipal", { id: "ops-bot" })).toEqual(before);
    expect((await c.fail("GetPrincipal", { id: "temp" })).code).toBe("NOT_FOUND");
  });
});
