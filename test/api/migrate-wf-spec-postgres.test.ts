// The same tests as migrate-wf-spec.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./migrate-wf-spec.test";
