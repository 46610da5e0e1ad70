/**
 * The SQLite schema as a numbered list of migrations. A landed migration is never edited: add a new one.
 * Objects are stored as protobuf bytes plus the columns that lookups and searches need.
 */
export const SQLITE_MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE metadata (
        tenant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, major INTEGER NOT NULL, minor INTEGER NOT NULL,
        bytes BLOB NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, kind, name, major, minor)
      );
      CREATE TABLE wf_runs (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL,
        wf_spec_name TEXT NOT NULL, wf_spec_major INTEGER NOT NULL, wf_spec_revision INTEGER NOT NULL,
        status INTEGER NOT NULL, start_ms INTEGER, end_ms INTEGER, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key)
      );
      CREATE TABLE node_runs (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, thread INTEGER NOT NULL, position INTEGER NOT NULL,
        status INTEGER NOT NULL, arrival_ms INTEGER, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, thread, position)
      );
      CREATE TABLE task_runs (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, task_guid TEXT NOT NULL, task_def_name TEXT NOT NULL,
        status INTEGER NOT NULL, scheduled_ms INTEGER, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, task_guid)
      );
      CREATE TABLE variables (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, thread INTEGER NOT NULL, name TEXT NOT NULL, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, thread, name)
      );
      CREATE TABLE task_queue (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL, task_def_name TEXT NOT NULL, wf_run_key TEXT NOT NULL, task_guid TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        UNIQUE (tenant, wf_run_key, task_guid, attempt)
      );
      CREATE TABLE timers (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, key TEXT NOT NULL, due_ms INTEGER NOT NULL, command TEXT NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, key)
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE external_events (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, def_name TEXT NOT NULL, guid TEXT NOT NULL,
        created_ms INTEGER NOT NULL, claimed INTEGER NOT NULL, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, def_name, guid)
      );
      CREATE TABLE workflow_events (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, def_name TEXT NOT NULL, number INTEGER NOT NULL,
        created_ms INTEGER NOT NULL, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, def_name, number)
      );
      CREATE TABLE user_task_runs (
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, guid TEXT NOT NULL, def_name TEXT NOT NULL,
        status INTEGER NOT NULL, user_id TEXT, user_group TEXT, scheduled_ms INTEGER, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, guid)
      );
    `,
  },
];
