// The same tests as tasks.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./tasks.test";
