// The same tests as external-events.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./external-events.test";
