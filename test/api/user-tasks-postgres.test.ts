// The same tests as user-tasks.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./user-tasks.test";
