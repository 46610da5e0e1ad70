// The same tests as metrics.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./metrics.test";
