// The same tests as list-paging.test.ts, with the server on PostgreSQL: both stores must answer alike.
import "../support/use-postgres";
import "./list-paging.test";
