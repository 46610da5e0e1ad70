import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // stops throwaway PostgreSQL clusters a test file left running (test/support/postgres.ts)
    globalSetup: ["test/support/postgres-teardown.ts"],
  },
});
