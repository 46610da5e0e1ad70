/**
 * Imported first by a `*-postgres.test.ts` file: the test servers of the test file it imports next run on
 * PostgreSQL (startTestServer in server.ts), so one set of tests checks that both stores answer alike.
 */
process.env.PONY_TEST_STORE = "postgres";
