/**
 * B-SEC-3: TLS and mTLS on the gRPC listener, end to end, with certificates made at test time by Debian's
 * `openssl` (a throwaway CA; a server certificate for localhost / 127.0.0.1; client certificates for
 * `worker-1` and `admin-1`; one from a CA the server does not trust). Checked through the independent
 * grpc-js client, the SDK's LHConfig (LHC_* settings) and its task worker, and the `pony` CLI:
 *
 *  - TLS only: callers that trust the CA get in as `anonymous`; plaintext or untrusting callers do not;
 *  - mTLS: the client certificate's subject CN names the principal, and that principal's ACLs decide;
 *    callers without a certificate, or with one the client CA did not sign, cannot call at all;
 *  - settings that only work together are refused at start with a message naming what is missing.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { VariableType } from "@pony/proto";
import { LHConfig, LHTaskWorker, silentLogger, type LHConfigOptions } from "@pony/sdk";
import { PonyServer, loadSettings } from "@pony/server";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failsWith, ok, PONY_BIN, REPO_ROOT, type PonyResult } from "../../packages/cli/test/support";
import { startTestServer, type TestServer } from "../support/server";
import { statusOf, TestClient, type Msg } from "../support/client";
import { oneTaskWf, str, taskDef } from "../support/specs";
import { waitFor } from "../support/wait";

/** Every PEM file of the test, in `dir`. */
interface Pki {
  dir: string;
  ca: string;
  untrustedCa: string;
  server: KeyPair;
  worker1: KeyPair;
  admin1: KeyPair;
  /** CN admin-1, but signed by the untrusted CA */
  impostor: KeyPair;
}
interface KeyPair {
  cert: string;
  key: string;
}

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
`;

function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pony-tls-"));
  fs.writeFileSync(path.join(dir, "openssl.cnf"), OPENSSL_CNF);
  const file = (name: string) => path.join(dir, name);
  /** Runs `openssl` in `dir` (names are relative to it); `command` is split on spaces. */
  const openssl = (command: string) => {
    const args = command.trim().split(/\s+/);
    try {
      execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(`openssl ${command} failed: ${stderr || String(e)}`);
    }
  };
  const newKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const ca = (name: string, cn: string) => {
    openssl(`req -x509 -new ${newKey} -keyout ${name}.key -out ${name}.pem -days 2 -subj /CN=${cn}
      -config openssl.cnf -extensions ca`);
    return file(`${name}.pem`);
  };
  const leaf = (name: string, cn: string, signer: string, profile: "server" | "client"): KeyPair => {
    openssl(`req -new ${newKey} -keyout ${name}.key -out ${name}.csr -subj /CN=${cn} -config openssl.cnf`);
    openssl(`x509 -req -in ${name}.csr -CA ${signer}.pem -CAkey ${signer}.key -days 2 -out ${name}.pem
      -set_serial 0x1${randomBytes(8).toString("hex")} -extfile openssl.cnf -extensions ${profile}`);
    return { cert: file(`${name}.pem`), key: file(`${name}.key`) };
  };
  return {
    dir,
    ca: ca("ca", "pony-test-ca"),
    untrustedCa: ca("untrusted-ca", "untrusted-test-ca"),
    server: leaf("server", "localhost", "ca", "server"),
    worker1: leaf("worker-1", "worker-1", "ca", "client"),
    admin1: leaf("admin-1", "admin-1", "ca", "client"),
    impostor: leaf("impostor", "admin-1", "untrusted-ca", "client"),
  };
}

let pki: Pki;
beforeAll(() => {
  pki = makePki();
});
afterAll(() => {
  if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
});

const read = (f: string) => fs.readFileSync(f);

/** TLS channel credentials trusting `ca`, presenting `pair` when given. */
function tls(ca: string, pair?: KeyPair): grpc.ChannelCredentials {
  return pair
    ? grpc.credentials.createSsl(read(ca), read(pair.key), read(pair.cert))
    : grpc.credentials.createSsl(read(ca));
}

/** A call's outcome, never hanging: a handshake that never completes ends at the deadline. */
const outcome = (c: TestClient, method: string, req: Msg = {}) =>
  statusOf(c.call(method, req, { deadlineMs: 10_000 }));

const portOf = (address: string) => address.slice(address.lastIndexOf(":") + 1);

describe("B-SEC-3 TLS without client certificates", () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ extraArgs: ["--tls-cert", pki.server.cert, "--tls-key", pki.server.key] });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it("B-SEC-3 a client trusting the CA calls over TLS as the anonymous principal", async () => {
    const c = ts.client(undefined, { credentials: tls(pki.ca) });
    const version = await c.call("GetServerVersion");
    expect(typeof version.major_version).toBe("number");
    expect((await c.call("Whoami")).id.id).toBe("anonymous");
    // anonymous is the admin of a server that does not authenticate
    expect((await c.call("PutTaskDef", taskDef("tls-task"))).id.name).toBe("tls-task");
  });

  it("B-SEC-3 the server certificate is checked against the host name too (SAN DNS:localhost)", async () => {
    const c = new TestClient(`localhost:${portOf(ts.address)}`, undefined, { credentials: tls(pki.ca) });
    try {
      expect((await c.call("Whoami")).id.id).toBe("anonymous");
    } finally {
      c.close();
    }
  });

  it("B-SEC-3 a plaintext client cannot call the TLS port", async () => {
    const r = await outcome(ts.client(), "GetServerVersion");
    expect(r.code).toBe("UNAVAILABLE");
  });

  it("B-SEC-3 a TLS client that does not trust the server's CA cannot call", async () => {
    const r = await outcome(ts.client(undefined, { credentials: tls(pki.untrustedCa) }), "GetServerVersion");
    expect(r.code).toBe("UNAVAILABLE");
  });
});

describe("B-SEC-3 mTLS: the client certificate's CN is the principal", () => {
  let ts: TestServer;
  let port: string;
  const configs: LHConfig[] = [];
  const workers: LHTaskWorker[] = [];

  const WORKER_ACLS = {
    acls: [{ resources: ["ACL_TASK"], allowed_actions: ["READ", "RUN"], name: "my-task" }],
  };
  const admin = () => ts.client(undefined, { credentials: tls(pki.ca, pki.admin1) });
  const worker = () => ts.client(undefined, { credentials: tls(pki.ca, pki.worker1) });

  /** my-task (one STR input) and the worker-1 principal: what the SDK and CLI tests rely on. */
  async function ensureWorkerSetUp(a: TestClient) {
    const put = await outcome(a, "PutTaskDef", taskDef("my-task", [["input", "STR"]]));
    expect(["OK", "ALREADY_EXISTS"]).toContain(put.code);
    await a.call("PutPrincipal", { id: "worker-1", global_acls: WORKER_ACLS });
  }

  /** The LHC_* settings of a client presenting `pair`. */
  const lhcSettings = (pair: KeyPair | undefined, host = "127.0.0.1"): Record<string, string> => ({
    LHC_API_HOST: host,
    LHC_API_PORT: port,
    LHC_API_PROTOCOL: "TLS",
    LHC_CA_CERT: pki.ca,
    ...(pair ? { LHC_CLIENT_CERT: pair.cert, LHC_CLIENT_KEY: pair.key } : {}),
  });

  beforeAll(async () => {
    ts = await startTestServer({
      extraArgs: [
        ...["--tls-cert", pki.server.cert, "--tls-key", pki.server.key, "--tls-client-ca", pki.ca],
        ...["--bootstrap-admin", "admin-1", "--advertised-host", "127.0.0.1", "--poll-wait-seconds", "1"],
      ],
    });
    port = portOf(ts.address);
  });
  afterAll(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    for (const c of configs.splice(0)) c.close();
    await ts?.close();
  });

  describe("through the grpc-js client", () => {
    it("B-SEC-3 admin-1 (--bootstrap-admin) is who its certificate says and may write metadata", async () => {
      const a = admin();
      const me = await a.call("Whoami");
      expect(me.id.id).toBe("admin-1");
      expect(me.global_acls.acls).toContainEqual(
        expect.objectContaining({ resources: ["ACL_ALL_RESOURCES"], allowed_actions: ["ALL_ACTIONS"] }),
      );
      expect((await a.call("PutTaskDef", taskDef("my-task", [["input", "STR"]]))).id.name).toBe("my-task");
    });

    it("B-SEC-3 worker-1 is named by its certificate; its ACLs, once an admin grants them, decide", async () => {
      const w = worker();
      const a = admin();
      expect((await w.call("Whoami")).id.id).toBe("worker-1");
      // a principal nobody created has no ACLs
      expect((await outcome(w, "PutTaskDef", taskDef("worker-task"))).code).toBe("PERMISSION_DENIED");
      expect((await outcome(w, "GetTaskDef", { name: "my-task" })).code).toBe("PERMISSION_DENIED");

      await ensureWorkerSetUp(a);
      const me = await w.call("Whoami");
      expect(me.id.id).toBe("worker-1");
      expect(me.global_acls.acls).toEqual([
        expect.objectContaining({
          resources: ["ACL_TASK"],
          allowed_actions: ["READ", "RUN"],
          name: "my-task",
        }),
      ]);
      expect((await w.call("GetTaskDef", { name: "my-task" })).id.name).toBe("my-task");
      expect((await outcome(w, "PutTaskDef", taskDef("my-task", [["input", "STR"]]))).code).toBe(
        "PERMISSION_DENIED",
      );
      expect((await outcome(w, "PutTaskDef", taskDef("worker-task"))).code).toBe("PERMISSION_DENIED");
      // the grant names my-task only, and no workflow
      expect((await outcome(a, "PutTaskDef", taskDef("other-task"))).code).toBe("OK");
      expect((await outcome(w, "GetTaskDef", { name: "other-task" })).code).toBe("PERMISSION_DENIED");
      expect((await outcome(w, "RunWf", { wf_spec_name: "anything" })).code).toBe("PERMISSION_DENIED");
    });

    it("B-SEC-3 a TLS client without a certificate cannot call at all", async () => {
      const c = ts.client(undefined, { credentials: tls(pki.ca) });
      for (const method of ["GetServerVersion", "Whoami"]) {
        const r = await outcome(c, method);
        expect(r.code, `${method}: ${r.message}`).toBe("UNAVAILABLE");
      }
    });

    it("B-SEC-3 a certificate the client CA did not sign cannot call, whatever its CN", async () => {
      const c = ts.client(undefined, { credentials: tls(pki.ca, pki.impostor) });
      for (const method of ["GetServerVersion", "Whoami"]) {
        const r = await outcome(c, method);
        expect(r.code, `${method}: ${r.message}`).toBe("UNAVAILABLE");
      }
    });

    it("B-SEC-3 a plaintext client cannot call the mTLS port", async () => {
      expect((await outcome(ts.client(), "GetServerVersion")).code).toBe("UNAVAILABLE");
    });
  });

  describe("through the SDK's LHC_* settings", () => {
    const config = (options: LHConfigOptions) => {
      const c = new LHConfig({ configFile: null, env: {}, ...options });
      configs.push(c);
      return c;
    };

    it("B-SEC-3 LHC_API_PROTOCOL=TLS with LHC_CA_CERT, LHC_CLIENT_CERT, LHC_CLIENT_KEY: whoami is the CN", async () => {
      const fromEnv = config({ env: lhcSettings(pki.worker1) });
      expect(fromEnv.apiProtocol).toBe("TLS");
      expect((await fromEnv.getClient().whoami({})).id?.id).toBe("worker-1");

      // the same settings from a littlehorse.config properties file
      const file = path.join(pki.dir, "admin-1.config");
      const props = Object.entries(lhcSettings(pki.admin1)).map(([k, v]) => `${k}=${v}`);
      fs.writeFileSync(file, props.join("\n") + "\n");
      const fromFile = config({ configFile: file });
      expect(fromFile.sourceOf("clientCert")).toBe("file");
      expect((await fromFile.getClient().whoami({})).id?.id).toBe("admin-1");
    });

    it("B-SEC-3 without a client certificate the SDK cannot call the mTLS server", async () => {
      const c = config({ env: lhcSettings(undefined) });
      await expect(c.getClient().getServerVersion({}, { timeoutMs: 10_000 })).rejects.toThrow();
    });

    it("B-SEC-3 a task worker polls and completes a WfRun over mTLS as worker-1 with only READ+RUN on my-task", async () => {
      const a = admin();
      await ensureWorkerSetUp(a);
      const wfSpecName = "tls-one-task";
      await a.call("PutWfSpec", oneTaskWf(wfSpecName, "my-task"));

      const seen: string[] = [];
      const workerConfig = config({ env: { ...lhcSettings(pki.worker1), LHW_TASK_WORKER_ID: "tls-worker" } });
      const w = new LHTaskWorker(
        async (input: string) => {
          seen.push(input);
          return `hello ${input}`;
        },
        "my-task",
        workerConfig,
        { inputVars: [["input", VariableType.STR]], logger: silentLogger },
      );
      workers.push(w);
      await w.start();
      expect(w.connectedHosts).toEqual([`127.0.0.1:${port}`]);

      const wfRun = await a.call("RunWf", { wf_spec_name: wfSpecName, variables: { input: str("Ada") } });
      const id: string = wfRun.id.id;
      const done = await waitFor(
        async () => {
          const r = await a.call("GetWfRun", { id });
          return ["COMPLETED", "ERROR", "EXCEPTION"].includes(r.status) ? r : undefined;
        },
        20_000,
        `WfRun ${id} to end`,
      );
      expect(done.status).toBe("COMPLETED");
      expect(seen).toEqual(["Ada"]);
      const nodeRun = await a.call("GetNodeRun", { wf_run_id: { id }, thread_run_number: 0, position: 1 });
      const taskRun = await a.call("GetTaskRun", nodeRun.task.task_run_id);
      expect(taskRun.attempts).toHaveLength(1);
      expect(taskRun.attempts[0].status).toBe("TASK_SUCCESS");
      expect(taskRun.attempts[0].task_worker_id).toBe("tls-worker");
      expect(taskRun.attempts[0].output.str).toBe("hello Ada");
      await w.close();
    });
  });

  describe("through the pony CLI", () => {
    /** `pony <args>` as a child process with only the given LHC_* settings and a throwaway HOME. */
    function pony(args: string[], env: Record<string, string>): Promise<PonyResult> {
      const base: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (v !== undefined && !/^(LHC_|LHW_|PONY_)/.test(k)) base[k] = v;
      }
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [PONY_BIN, ...args], {
          cwd: REPO_ROOT,
          env: { ...base, HOME: pki.dir, ...env },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
        child.on("error", reject);
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) });
        });
      });
    }

    it(
      "B-SEC-3 pony whoami and pony version over mTLS report the certificate's principal",
      { timeout: 90_000 },
      async () => {
        await ensureWorkerSetUp(admin());
        const configFile = path.join(pki.dir, "cli-admin-1.config");
        fs.writeFileSync(
          configFile,
          Object.entries(lhcSettings(pki.admin1, "localhost"))
            .map(([k, v]) => `${k}=${v}`)
            .join("\n"),
        );
        const taskDefFile = path.join(pki.dir, "cli-task.json");
        fs.writeFileSync(taskDefFile, JSON.stringify({ name: "cli-task" }));

        // by host name: the certificate's SAN DNS:localhost
        const worker1 = lhcSettings(pki.worker1, "localhost");
        const [whoWorker, whoAdmin, version, getTask, deploy, byIp, noCert, plaintext] = await Promise.all([
          pony(["whoami", "--json"], worker1),
          pony(["--config", configFile, "whoami"], {}),
          pony(["version"], worker1),
          pony(["get", "taskDef", "my-task"], worker1),
          pony(["deploy", "taskDef", taskDefFile], worker1),
          pony(["whoami", "--json"], lhcSettings(pki.worker1, "127.0.0.1")),
          pony(["whoami"], lhcSettings(undefined, "localhost")),
          pony(["whoami"], { ...worker1, LHC_API_PROTOCOL: "PLAINTEXT" }),
        ]);

        const w = ok(whoWorker);
        expect(w.id.id).toBe("worker-1");
        expect(w.globalAcls.acls).toEqual([
          { resources: ["ACL_TASK"], allowedActions: ["READ", "RUN"], name: "my-task" },
        ]);
        // without --json, a table headed by the principal's id
        expect(whoAdmin.stderr).toBe("");
        expect(whoAdmin.code).toBe(0);
        expect(whoAdmin.stdout).toMatch(/^principal\s+admin-1\s/m);
        expect(whoAdmin.stdout).toMatch(/\bACL_ALL_RESOURCES\s+ALL_ACTIONS\b/);
        const v = ok(version);
        expect(v.apiAddress).toBe(`localhost:${port}`);
        expect(v.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
        expect(ok(getTask).id.name).toBe("my-task");
        failsWith(deploy, "PERMISSION_DENIED");
        // by IP address (SAN IP:127.0.0.1): grpc-js passes the IP as the TLS server name, which Node warns
        // about (DEP0123); the CLI keeps that noise off its stderr
        expect(byIp.code, byIp.stderr).toBe(0);
        expect(byIp.json().id.id).toBe("worker-1");
        expect(byIp.stderr).toBe("");
        for (const [what, r] of [
          ["no client certificate", noCert],
          ["plaintext", plaintext],
        ] as const) {
          expect(r.code, `${what}: ${r.stderr}`).toBe(1);
          expect(r.stdout, what).toBe("");
          expect(r.stderr, what).toMatch(/^error: /);
        }
      },
    );
  });
});

describe("B-SEC-3 TLS settings", () => {
  it("B-SEC-3 --tls-cert without --tls-key (and the reverse) is refused with what is missing", () => {
    expect(() => loadSettings(["--tls-cert", "/x/server.pem"], {})).toThrow(
      /--tls-cert and --tls-key go together/,
    );
    expect(() => loadSettings(["--tls-key", "/x/server.key"], {})).toThrow(
      /--tls-cert and --tls-key go together/,
    );
    expect(() => loadSettings([], { PONY_TLS_CERT: "/x/server.pem" })).toThrow(/--tls-key/);
  });

  it("B-SEC-3 --tls-client-ca without a server certificate is refused: mTLS needs TLS", () => {
    expect(() => loadSettings(["--tls-client-ca", "/x/ca.pem"], {})).toThrow(
      /--tls-client-ca \(mTLS\) needs TLS: set --tls-cert and --tls-key/,
    );
    expect(() => loadSettings([], { PONY_TLS_CLIENT_CA: "/x/ca.pem" })).toThrow(/needs TLS/);
  });

  it("B-SEC-3 TLS settings that go together are accepted", () => {
    const s = loadSettings(
      ["--tls-cert", "/x/server.pem", "--tls-key", "/x/server.key", "--tls-client-ca", "/x/ca.pem"],
      {},
    );
    expect(s).toMatchObject({ tlsCert: "/x/server.pem", tlsKey: "/x/server.key", tlsClientCa: "/x/ca.pem" });
  });

  it("B-SEC-3 an unreadable certificate file stops the start with its name", async () => {
    const dataDir = path.join(pki.dir, "unreadable-cert-data");
    const settings = loadSettings(
      ["--grpc-port", "0", "--grpc-host", "127.0.0.1", "--http-port", "0", "--data-dir", dataDir].concat([
        "--tls-cert",
        path.join(pki.dir, "missing.pem"),
        "--tls-key",
        pki.server.key,
      ]),
      {},
    );
    await expect(PonyServer.start(settings, pino({ level: "silent" }))).rejects.toThrow(
      /cannot read --tls-cert .*missing\.pem/,
    );
  });
});
