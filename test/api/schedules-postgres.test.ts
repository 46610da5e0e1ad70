// The same tests as schedules.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./schedules.test";
