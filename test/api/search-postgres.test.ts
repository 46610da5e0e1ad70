// The same tests as search.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./search.test";
