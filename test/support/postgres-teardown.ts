/**
 * vitest global setup: at the end of the run, stops the throwaway PostgreSQL clusters (postgres.ts) that a
 * test file's process left running, so no database server outlives the tests.
 */
import { stopLeftoverClusters } from "./postgres";

export default function setup(): () => void {
  return () => stopLeftoverClusters(process.pid);
}
