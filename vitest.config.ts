import { defineConfig } from "vitest/config";

const shared = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
  // servers the tests start as child processes bind a free HTTP port, not the dashboard's 8080; every reused
  // ThreadRun encoding is checked against a fresh one (protobuf/to-binary.ts)
  env: { PONY_HTTP_PORT: "0", PONY_CHECK_ENCODING: "1" },
};

export default defineConfig({
  test: {
    // stops throwaway PostgreSQL clusters a test file left running (test/support/postgres.ts)
    globalSetup: ["test/support/postgres-teardown.ts"],
    projects: [
      {
        test: {
          ...shared,
          name: "pony",
          include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
          exclude: ["test/cluster/**", "test/dashboard/**", "test/reliability/**", "**/node_modules/**"],
        },
      },
      {
        // three servers and a database each: run after the others (groupOrder), one file at a time, so they
        // neither slow down the timing-sensitive tests nor each other
        test: {
          ...shared,
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // a real chromium per file: after the others, one file at a time
        test: {
          ...shared,
          name: "dashboard",
          include: ["test/dashboard/**/*.test.ts"],
          fileParallelism: false,
          // a page shows what it fetched within the same 10 s a browser action waits (test/support/browser.ts),
          // not within expect.poll's default 1 s, which a loaded CI machine can overrun
          expect: { poll: { timeout: 10_000 } },
          sequence: { groupOrder: 2 },
        },
      },
      {
        // floods and faults (issue 13): they load the machine on purpose, so they run last, one file at a time
        test: {
          ...shared,
          name: "reliability",
          include: ["test/reliability/**/*.test.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
