// The same tests as run-wf.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./run-wf.test";
