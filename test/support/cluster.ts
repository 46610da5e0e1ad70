/**
 * A cluster of Pony servers on one throwaway PostgreSQL, each a child process (so a test can kill -9 one
 * and start it again on the same ports).
 */
import pg from "pg";
import { startChildServer, freePort, type ChildServer } from "./process-server";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./postgres";

export interface ClusterNode {
  index: number;
  port: number;
  internalPort: number;
  server: ChildServer | undefined;
  /** starts the server (again), on the same ports */
  start(): Promise<ChildServer>;
}

export interface TestCluster {
  pg: ThrowawayPostgres;
  databaseUrl: string;
  nodes: ClusterNode[];
  stop(): Promise<void>;
}

export async function startCluster(
  n: number,
  opts: { leaseSeconds?: number; partitions?: number; extraArgs?: string[] } = {},
): Promise<TestCluster> {
  const pg = await startThrowawayPostgres({ fsync: false });
  const databaseUrl = await pg.createDatabase();
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < n; i++) {
    const node: ClusterNode = {
      index: i,
      port: await freePort(),
      internalPort: await freePort(),
      server: undefined,
      async start() {
        node.server = await startChildServer(
          "",
          [
            "--store",
            "postgres",
            "--database-url",
            databaseUrl,
            "--internal-port",
            String(node.internalPort),
            "--internal-host",
            "127.0.0.1",
            "--advertised-host",
            "127.0.0.1",
            "--lease-seconds",
            String(opts.leaseSeconds ?? 2),
            "--partitions",
            String(opts.partitions ?? 12),
            ...(opts.extraArgs ?? []),
          ],
          node.port,
        );
        return node.server;
      },
    };
    nodes.push(node);
  }
  for (const node of nodes) await node.start();
  return {
    pg,
    databaseUrl,
    nodes,
    async stop() {
      for (const node of nodes) await node.server?.kill("SIGTERM");
      await pg.stop();
    },
  };
}

/** Each partition's owner (a server id: its address) as the cluster's `partitions` table says now. */
export async function partitionOwners(databaseUrl: string): Promise<Map<number, string>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const rows = (await db.query("SELECT part, owner FROM partitions")).rows as {
      part: number;
      owner: string;
    }[];
    return new Map(rows.map((r) => [Number(r.part), r.owner]));
  } finally {
    await db.end();
  }
}
