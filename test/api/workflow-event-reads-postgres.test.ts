// The same tests as workflow-event-reads.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./workflow-event-reads.test";
