/**
 * issue 5: LHConfig reads LittleHorse's settings from options, the environment and a littlehorse.config
 * properties file (in that order of precedence), and its clients send the bearer token of the OAuth
 * client-credentials flow.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { PrincipalSchema, ServerVersionResponseSchema } from "@pony/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LHApiError, LHConfig, LHConfigError, parseProperties } from "../src/index";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pony-sdk-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeConfig(text: string): string {
  const file = path.join(tmp, `littlehorse-${Math.random().toString(36).slice(2)}.config`);
  fs.writeFileSync(file, text);
  return file;
}

describe("issue 5 littlehorse.config properties", () => {
  it("reads KEY=VALUE, KEY: VALUE and KEY VALUE lines, skipping # and ! comments", () => {
    expect(
      parseProperties(
        [
          "# a comment",
          "! another comment",
          "",
          "LHC_API_HOST=pony.example.com",
          "  LHC_API_PORT : 2024  ",
          "LHC_TENANT_ID   acme",
          "LHW_TASK_WORKER_VERSION=v1=final",
          "LHC_OAUTH_ACCESS_TOKEN_URL=https://id.example.com/\\",
          "    realms/pony/token",
          "ESCAPED=tab\\there \\u0041",
          "EMPTY=",
        ].join("\n"),
      ),
    ).toEqual({
      LHC_API_HOST: "pony.example.com",
      LHC_API_PORT: "2024",
      LHC_TENANT_ID: "acme",
      LHW_TASK_WORKER_VERSION: "v1=final",
      LHC_OAUTH_ACCESS_TOKEN_URL: "https://id.example.com/realms/pony/token",
      ESCAPED: "tab\there A",
      EMPTY: "",
    });
  });

  it("takes every setting from the file when nothing else sets it", () => {
    const file = writeConfig(
      [
        "LHC_API_HOST=file-host",
        "LHC_API_PORT=3000",
        "LHC_API_PROTOCOL=TLS",
        "LHC_TENANT_ID=file-tenant",
        "LHW_TASK_WORKER_ID=file-worker",
        "LHW_TASK_WORKER_VERSION=file-v",
        "LHW_NUM_WORKER_THREADS=7",
      ].join("\n"),
    );
    const c = new LHConfig({ configFile: file, env: {} });
    expect(c.configFile).toBe(file);
    expect([c.apiHost, c.apiPort, c.apiProtocol, c.tenantId]).toEqual([
      "file-host",
      3000,
      "TLS",
      "file-tenant",
    ]);
    expect([c.taskWorkerId, c.taskWorkerVersion, c.numWorkerThreads]).toEqual(["file-worker", "file-v", 7]);
    expect(c.sourceOf("apiPort")).toBe("file");
  });
});

describe("issue 5 LHConfig precedence", () => {
  it("has LittleHorse's defaults", () => {
    const c = new LHConfig({ configFile: null, env: {} });
    expect(c.apiHost).toBe("localhost");
    expect(c.apiPort).toBe(2023);
    expect(c.apiProtocol).toBe("PLAINTEXT");
    expect(c.tenantId).toBe("default");
    expect(c.numWorkerThreads).toBe(2);
    expect(c.taskWorkerVersion).toBeUndefined();
    expect(c.isOAuth).toBe(false);
    expect(c.taskWorkerId).toMatch(/^worker-[0-9a-f]{32}$/);
    expect(new LHConfig({ configFile: null, env: {} }).taskWorkerId).not.toBe(c.taskWorkerId);
    expect(c.sourceOf("apiHost")).toBe("default");
  });

  it("explicit options > environment > file > default, setting by setting", () => {
    const file = writeConfig("LHC_API_HOST=file-host\nLHC_API_PORT=3001\nLHC_TENANT_ID=file-tenant\n");
    const env = { LHC_API_PORT: "3002", LHC_TENANT_ID: "env-tenant", LHW_NUM_WORKER_THREADS: "5" };
    const c = new LHConfig({ configFile: file, env, tenantId: "option-tenant" });
    expect(c.apiHost).toBe("file-host");
    expect(c.apiPort).toBe(3002);
    expect(c.tenantId).toBe("option-tenant");
    expect(c.numWorkerThreads).toBe(5);
    expect(c.apiProtocol).toBe("PLAINTEXT");
    expect([
      c.sourceOf("apiHost"),
      c.sourceOf("apiPort"),
      c.sourceOf("tenantId"),
      c.sourceOf("apiProtocol"),
    ]).toEqual(["file", "environment", "option", "default"]);
    expect(c.apiAddress).toBe("file-host:3002");
  });

  it("treats an empty environment variable as unset", () => {
    const file = writeConfig("LHC_TENANT_ID=file-tenant\n");
    expect(new LHConfig({ configFile: file, env: { LHC_TENANT_ID: "" } }).tenantId).toBe("file-tenant");
  });

  it("reads process.env by default", () => {
    const before = process.env.LHC_TENANT_ID;
    process.env.LHC_TENANT_ID = "from-process-env";
    try {
      expect(new LHConfig({ configFile: null }).tenantId).toBe("from-process-env");
    } finally {
      if (before === undefined) delete process.env.LHC_TENANT_ID;
      else process.env.LHC_TENANT_ID = before;
    }
  });

  it("rejects malformed settings naming the setting and where it came from", () => {
    const file = writeConfig("LHC_API_PORT=twenty\n");
    expect(() => new LHConfig({ configFile: file, env: {} })).toThrow(
      new LHConfigError(`LHC_API_PORT (from ${file}) must be a whole number from 1 to 65535, got 'twenty'`),
    );
    expect(() => new LHConfig({ configFile: null, env: { LHC_API_PROTOCOL: "HTTP" } })).toThrow(
      /LHC_API_PROTOCOL \(from the environment\) must be PLAINTEXT or TLS/,
    );
    expect(() => new LHConfig({ configFile: null, env: { LHW_NUM_WORKER_THREADS: "0" } })).toThrow(
      /LHW_NUM_WORKER_THREADS/,
    );
    expect(() => new LHConfig({ configFile: null, env: { LHC_OAUTH_CLIENT_ID: "x" } })).toThrow(
      /OAuth needs all of/,
    );
    expect(() => new LHConfig({ configFile: null, env: { LHC_CLIENT_CERT: "/x.pem" } })).toThrow(
      /go together/,
    );
    expect(() => new LHConfig({ configFile: path.join(tmp, "missing.config"), env: {} })).toThrow(
      /cannot read the config file/,
    );
  });

  it("describes the effective settings with secrets masked", () => {
    const c = new LHConfig({
      configFile: null,
      env: {
        LHC_OAUTH_CLIENT_ID: "id",
        LHC_OAUTH_CLIENT_SECRET: "s3cret",
        LHC_OAUTH_ACCESS_TOKEN_URL: "http://127.0.0.1:1/token",
      },
      taskWorkerId: "w1",
    });
    const d = c.describe();
    expect(d).toMatchObject({
      LHC_API_HOST: "localhost",
      LHC_OAUTH_CLIENT_SECRET: "****",
      LHW_TASK_WORKER_ID: "w1",
    });
    expect(JSON.stringify(d)).not.toContain("s3cret");
  });

  it("reuses one client per address", () => {
    const c = new LHConfig({ configFile: null, env: {} });
    try {
      expect(c.getClient()).toBe(c.getClient());
      expect(c.getClient()).toBe(c.getClientFor("localhost", 2023));
      expect(c.getClientFor("other", 2023)).not.toBe(c.getClient());
      expect(c.getClientFor("other", 2023).address).toBe("other:2023");
    } finally {
      c.close();
    }
  });
});

/** A gRPC server that answers Whoami and GetServerVersion and records the metadata of each call. */
async function startRecordingServer(opts: { delayMs?: number } = {}) {
  const seen: grpc.Metadata[] = [];
  const server = new grpc.Server();
  const method = (name: string, res: () => object, schema: Parameters<typeof toBinary>[0]) => ({
    path: `/littlehorse.LittleHorse/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: object) => Buffer.from(toBinary(EmptySchema, m as never)),
    requestDeserialize: (b: Buffer) => fromBinary(EmptySchema, b),
    responseSerialize: (m: object) => Buffer.from(toBinary(schema, m as never)),
    responseDeserialize: (b: Buffer) => fromBinary(schema, b),
    res,
  });
  const methods = {
    whoami: method("Whoami", () => create(PrincipalSchema, { id: { id: "recorder" } }), PrincipalSchema),
    getServerVersion: method(
      "GetServerVersion",
      () => create(ServerVersionResponseSchema, { majorVersion: 0 }),
      ServerVersionResponseSchema,
    ),
  };
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, m] of Object.entries(methods)) {
    impl[name] = (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
      seen.push(call.metadata);
      setTimeout(() => cb(null, m.res()), opts.delayMs ?? 0);
    };
  }
  server.addService(methods, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, seen, stop: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

describe("issue 5 OAuth client credentials", () => {
  let tokenServer: http.Server;
  let tokenUrl: string;
  const tokenRequests: { auth: string | undefined; body: string }[] = [];
  let expiresIn = 3600;

  beforeAll(async () => {
    tokenServer = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        tokenRequests.push({ auth: req.headers.authorization, body });
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ access_token: `token-${tokenRequests.length}`, expires_in: expiresIn }));
      });
    });
    await new Promise<void>((r) => tokenServer.listen(0, "127.0.0.1", r));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
  });
  afterAll(() => new Promise<void>((r) => tokenServer.close(() => r())));

  it("fetches a token once, caches it, and sends `authorization: Bearer …` and `tenantid` on every call", async () => {
    tokenRequests.length = 0;
    expiresIn = 3600;
    const rec = await startRecordingServer();
    const config = new LHConfig({
      configFile: null,
      env: {
        LHC_API_HOST: "127.0.0.1",
        LHC_API_PORT: String(rec.port),
        LHC_TENANT_ID: "acme",
        LHC_OAUTH_CLIENT_ID: "my-client",
        LHC_OAUTH_CLIENT_SECRET: "my-secret",
        LHC_OAUTH_ACCESS_TOKEN_URL: tokenUrl,
      },
    });
    try {
      const client = config.getClient();
      expect((await client.whoami()).id?.id).toBe("recorder");
      await client.getServerVersion({});
      await Promise.all([client.whoami(), client.whoami()]);
      expect(tokenRequests).toHaveLength(1);
      expect(tokenRequests[0]!.auth).toBe(`Basic ${Buffer.from("my-client:my-secret").toString("base64")}`);
      expect(tokenRequests[0]!.body).toBe("grant_type=client_credentials");
      expect(rec.seen).toHaveLength(4);
      for (const md of rec.seen) {
        expect(md.get("authorization")).toEqual(["Bearer token-1"]);
        expect(md.get("tenantid")).toEqual(["acme"]);
      }
    } finally {
      config.close();
      await rec.stop();
    }
  });

  it("fetches a new token once the cached one is about to expire", async () => {
    tokenRequests.length = 0;
    expiresIn = 1; // refreshed after 90% of its life
    const config = new LHConfig({
      configFile: null,
      env: { LHC_OAUTH_CLIENT_ID: "c", LHC_OAUTH_CLIENT_SECRET: "s", LHC_OAUTH_ACCESS_TOKEN_URL: tokenUrl },
    });
    expect(await config.accessToken()).toBe("token-1");
    expect(await config.accessToken()).toBe("token-1");
    await new Promise((r) => setTimeout(r, 950));
    expect(await config.accessToken()).toBe("token-2");
    expect(tokenRequests).toHaveLength(2);
  });

  it("fails the call with UNAVAILABLE when the token endpoint cannot be reached", async () => {
    const rec = await startRecordingServer();
    const config = new LHConfig({
      configFile: null,
      env: {
        LHC_API_HOST: "127.0.0.1",
        LHC_API_PORT: String(rec.port),
        LHC_OAUTH_CLIENT_ID: "c",
        LHC_OAUTH_CLIENT_SECRET: "s",
        LHC_OAUTH_ACCESS_TOKEN_URL: "http://127.0.0.1:1/token",
      },
    });
    try {
      const err = await config
        .getClient()
        .whoami()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(LHApiError);
      expect((err as LHApiError).code).toBe("UNAVAILABLE");
      expect((err as LHApiError).details).toContain("cannot reach the OAuth token endpoint");
      expect(rec.seen).toHaveLength(0);
    } finally {
      config.close();
      await rec.stop();
    }
  });
});

describe("issue 5 client call options", () => {
  it("honours a per-call deadline with DEADLINE_EXCEEDED", async () => {
    const rec = await startRecordingServer({ delayMs: 500 });
    const config = new LHConfig({ configFile: null, env: {}, apiHost: "127.0.0.1", apiPort: rec.port });
    try {
      const started = Date.now();
      const err = (await config
        .getClient()
        .whoami({}, { timeoutMs: 100 })
        .catch((e: unknown) => e)) as LHApiError;
      expect(err).toBeInstanceOf(LHApiError);
      expect(err.code).toBe("DEADLINE_EXCEEDED");
      expect(err.rpc).toBe("Whoami");
      expect(Date.now() - started).toBeLessThan(450);
      // without a deadline the same call waits for the answer
      expect((await config.getClient().whoami()).id?.id).toBe("recorder");
    } finally {
      config.close();
      await rec.stop();
    }
  });

  it("cancels a call whose AbortSignal fires", async () => {
    const rec = await startRecordingServer({ delayMs: 500 });
    const config = new LHConfig({ configFile: null, env: {}, apiHost: "127.0.0.1", apiPort: rec.port });
    try {
      const ac = new AbortController();
      const p = config.getClient().whoami({}, { signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      await expect(p).rejects.toMatchObject({ code: "CANCELLED" });
    } finally {
      config.close();
      await rec.stop();
    }
  });
});
