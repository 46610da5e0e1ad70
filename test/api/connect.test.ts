/**
 * The HTTP listener (--http-port): `littlehorse.LittleHorse` over the Connect and gRPC-Web protocols, through
 * the same pipeline as gRPC — the same answers, status codes, tenant header and authorization — plus
 * /healthz and the dashboard's files. Clients: Connect's own Node transports over HTTP/1.1 (what a browser
 * speaks) and plain fetch with JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Code,
  ConnectError,
  createClient,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { LHStatus, LittleHorse, VariableType } from "@pony/proto";
import { startTestServer, type TestServer } from "../support/server";
import { TestIssuer } from "../support/oauth";
import { entry, exit, nop, thread, wfSpec } from "../support/specs";

let ts: TestServer;
let base: string;

beforeAll(async () => {
  ts = await startTestServer();
  base = `http://127.0.0.1:${ts.server.httpPort}`;
});

afterAll(async () => {
  await ts?.close();
});

const clientOf = (transport: Transport): Client<typeof LittleHorse> => createClient(LittleHorse, transport);

type Protocol = "connect" | "connect (JSON)" | "gRPC-Web";
const PROTOCOLS: Protocol[] = ["connect", "connect (JSON)", "gRPC-Web"];

/** the three ways a browser reaches the service, each sending `headers` on every call */
function transports(baseUrl: string, headers: Record<string, string> = {}): Record<Protocol, Transport> {
  const withHeaders: Interceptor = (next) => (req) => {
    for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
    return next(req);
  };
  const interceptors = [withHeaders];
  return {
    connect: createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors }),
    "connect (JSON)": createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: false,
      interceptors,
    }),
    "gRPC-Web": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  };
}

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("the call succeeded");
}

describe("the Connect and gRPC-Web listener", () => {
  for (const name of PROTOCOLS) {
    it(`answers unary RPCs over ${name} exactly as gRPC does`, async () => {
      const c = clientOf(transports(base)[name]);
      const version = await c.getServerVersion({});
      expect(version.preReleaseIdentifier).toBe("pony");
      const taskDef = `connect-${name.toLowerCase().replace(/\W+/g, "-").replace(/-$/, "")}`;
      await c.putTaskDef({ name: taskDef, inputVars: [{ name: "who", type: VariableType.STR }] });
      // the same object over gRPC on 2023: one implementation behind both listeners
      const viaGrpc = await ts.client().call("GetTaskDef", { name: taskDef });
      expect(viaGrpc.input_vars[0].name).toBe("who");
      const got = await c.getTaskDef({ name: taskDef });
      expect(got.id?.name).toBe(taskDef);
      expect(got.inputVars[0]?.type).toBe(VariableType.STR);
    });

    it(`answers errors over ${name} with gRPC's status codes and messages`, async () => {
      const c = clientOf(transports(base)[name]);
      const missing = await failure(c.getTaskDef({ name: "no-such-task-def" }));
      expect(missing.code).toBe(Code.NotFound);
      expect(missing.rawMessage).toMatch(/no-such-task-def/);
      const bad = await failure(c.putTaskDef({ name: "" }));
      expect(bad.code).toBe(Code.InvalidArgument);
      const grpcBad = await ts.client().fail("PutTaskDef", { name: "" });
      expect(bad.rawMessage).toBe(grpcBad.message);
    });
  }

  it("answers a List page (stored bytes passed through for the binary codecs) over every protocol as gRPC does", async () => {
    const nodes = Array.from({ length: 30 }, (_, i) => nop(`${i + 1}-step-NOP`));
    await ts
      .client()
      .call("PutWfSpec", wfSpec("connect-list", thread([entry(), ...nodes, exit("31-exit-EXIT")])));
    await ts.client().call("RunWf", { wf_spec_name: "connect-list", id: "connect-list-run" });
    const viaGrpc = await ts
      .client()
      .call("ListNodeRuns", { wf_run_id: { id: "connect-list-run" }, limit: 20 });
    expect(viaGrpc.results).toHaveLength(20);
    for (const name of PROTOCOLS) {
      const c = clientOf(transports(base)[name]);
      const page = await c.listNodeRuns({ wfRunId: { id: "connect-list-run" }, limit: 20 });
      expect(
        page.results.map((n) => n.nodeName),
        name,
      ).toEqual(viaGrpc.results.map((n: { node_name: string }) => n.node_name));
      expect(page.results[5]?.id?.position, name).toBe(5);
      expect(LHStatus[page.results[5]!.status], name).toBe(viaGrpc.results[5].status);
      const next = await c.listNodeRuns({
        wfRunId: { id: "connect-list-run" },
        bookmark: page.bookmark,
        limit: 20,
      });
      expect(
        next.results.map((n) => n.id?.position),
        name,
      ).toEqual(Array.from({ length: 12 }, (_, i) => 20 + i));
      expect(next.bookmark?.length ?? 0, name).toBe(0);
    }
  });

  it("reads the tenantid header: an unknown tenant is NOT_FOUND, a tenant's objects stay in it", async () => {
    await ts.client().call("PutTenant", { id: "connect-tenant" });
    const inTenant = clientOf(transports(base, { tenantid: "connect-tenant" }).connect);
    await inTenant.putTaskDef({ name: "connect-tenant-td" });
    expect((await inTenant.getTaskDef({ name: "connect-tenant-td" })).id?.name).toBe("connect-tenant-td");
    const inDefault = clientOf(transports(base).connect);
    expect((await failure(inDefault.getTaskDef({ name: "connect-tenant-td" }))).code).toBe(Code.NotFound);
    const nowhere = clientOf(transports(base, { tenantid: "connect-nowhere" }).connect);
    const e = await failure(nowhere.getTaskDef({ name: "x" }));
    expect(e.code).toBe(Code.NotFound);
    expect(e.rawMessage).toMatch(/tenant 'connect-nowhere' does not exist/);
  });

  it("answers plain JSON over fetch, as a browser or curl would send it", async () => {
    const res = await fetch(`${base}/littlehorse.LittleHorse/GetTaskDef`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "nope" }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "not_found", message: "TaskDef 'nope' not found" });
    const ok = await fetch(`${base}/littlehorse.LittleHorse/GetServerVersion`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { preReleaseIdentifier: string }).preReleaseIdentifier).toBe("pony");
    const garbage = await fetch(`${base}/littlehorse.LittleHorse/GetTaskDef`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(garbage.status).toBe(400);
  });

  it("PollTask, a bidirectional stream, is UNIMPLEMENTED over HTTP/1.1, saying to use gRPC", async () => {
    for (const protocol of ["connect", "gRPC-Web"] as const) {
      const c = clientOf(transports(base)[protocol]);
      const e = await failure(
        (async () => {
          for await (const _ of c.pollTask((async function* () {})())) break;
        })(),
      );
      expect(e.rawMessage).toMatch(/PollTask is a bidirectional stream.*over gRPC/);
      expect(e.code).toBe(Code.Unimplemented);
    }
  });

  it("/healthz answers 200 while the store answers; /readyz while the server takes calls", async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok" });
  });

  it("serves the dashboard: index.html for a page path, 404 for a missing file", async () => {
    const page = await fetch(`${base}/wfRun/some-id`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<div id="root">/);
    const missing = await fetch(`${base}/assets/nothing-here.js`);
    expect(missing.status).toBe(404);
    const escape = await fetch(`${base}/..%2f..%2fpackage.json`);
    expect(escape.status).not.toBe(200);
  });
});

describe("the Connect listener with OAuth", () => {
  let issuer: TestIssuer;
  let secured: TestServer;
  let url: string;

  beforeAll(async () => {
    issuer = await TestIssuer.create();
    secured = await startTestServer({ extraArgs: [...issuer.serverArgs(), "--bootstrap-admin", "admin"] });
    url = `http://127.0.0.1:${secured.server.httpPort}`;
  });

  afterAll(async () => {
    await secured?.close();
    issuer?.close();
  });

  it("B-SEC-3 refuses a call without a token (UNAUTHENTICATED), a principal without rights (PERMISSION_DENIED), and lets the admin in", async () => {
    const anonymous = clientOf(transports(url).connect);
    const e = await failure(anonymous.putTaskDef({ name: "connect-oauth" }));
    expect(e.code).toBe(Code.Unauthenticated);
    expect(e.rawMessage).toMatch(/Bearer/);
    const stranger = clientOf(
      transports(url, { authorization: `Bearer ${await issuer.token("connect-stranger")}` }).connect,
    );
    const denied = await failure(stranger.putTaskDef({ name: "connect-oauth" }));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.rawMessage).toMatch(/connect-stranger/);
    const admin = clientOf(
      transports(url, { authorization: `Bearer ${await issuer.token("admin")}` }).connect,
    );
    expect((await admin.whoami({})).id?.id).toBe("admin");
    await admin.putTaskDef({ name: "connect-oauth" });
    expect((await admin.getTaskDef({ name: "connect-oauth" })).id?.name).toBe("connect-oauth");
    // the same token over gRPC-Web
    const adminWeb = clientOf(
      transports(url, { authorization: `Bearer ${await issuer.token("admin")}` })["gRPC-Web"],
    );
    expect((await adminWeb.getTaskDef({ name: "connect-oauth" })).id?.name).toBe("connect-oauth");
  });
});
