/**
 * The PostgreSQL schema as a numbered list of migrations, version for version beside SQLite's
 * (sqlite-migrations.ts): migration N makes the same change in both dialects, so both stores answer alike.
 * A landed migration is never edited: add a new one to both lists.
 *
 * Dialect notes: times are BIGINT epoch ms, protobuf bytes BYTEA; text keys use the "C" collation, so they
 * sort by bytes as SQLite's BINARY does (a page boundary falls in the same place in both stores). Only plain
 * tables, B-tree indexes and INSERT … ON CONFLICT are used: SQL that Postgres-compatible distributed
 * databases accept.
 */
export const PG_MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE metadata (
        tenant TEXT COLLATE "C" NOT NULL, kind TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
        major INTEGER NOT NULL, minor INTEGER NOT NULL, bytes BYTEA NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, kind, name, major, minor)
      );
      CREATE TABLE wf_runs (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL,
        wf_spec_name TEXT COLLATE "C" NOT NULL, wf_spec_major INTEGER NOT NULL, wf_spec_revision INTEGER NOT NULL,
        status INTEGER NOT NULL, start_ms BIGINT, end_ms BIGINT, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key)
      );
      CREATE TABLE node_runs (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, thread INTEGER NOT NULL,
        position INTEGER NOT NULL, status INTEGER NOT NULL, arrival_ms BIGINT, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, thread, position)
      );
      CREATE TABLE task_runs (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, task_guid TEXT COLLATE "C" NOT NULL,
        task_def_name TEXT COLLATE "C" NOT NULL, status INTEGER NOT NULL, scheduled_ms BIGINT, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, task_guid)
      );
      CREATE TABLE variables (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, thread INTEGER NOT NULL,
        name TEXT COLLATE "C" NOT NULL, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, thread, name)
      );
      CREATE TABLE task_queue (
        seq BIGSERIAL PRIMARY KEY,
        tenant TEXT COLLATE "C" NOT NULL, task_def_name TEXT COLLATE "C" NOT NULL,
        wf_run_key TEXT COLLATE "C" NOT NULL, task_guid TEXT COLLATE "C" NOT NULL, attempt INTEGER NOT NULL,
        UNIQUE (tenant, wf_run_key, task_guid, attempt)
      );
      CREATE TABLE timers (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
        due_ms BIGINT NOT NULL, command TEXT NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, key)
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE external_events (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, def_name TEXT COLLATE "C" NOT NULL,
        guid TEXT COLLATE "C" NOT NULL, created_ms BIGINT NOT NULL, claimed INTEGER NOT NULL, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, def_name, guid)
      );
      CREATE TABLE workflow_events (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, def_name TEXT COLLATE "C" NOT NULL,
        number INTEGER NOT NULL, created_ms BIGINT NOT NULL, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, def_name, number)
      );
      CREATE TABLE user_task_runs (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, guid TEXT COLLATE "C" NOT NULL,
        def_name TEXT COLLATE "C" NOT NULL, status INTEGER NOT NULL, user_id TEXT COLLATE "C",
        user_group TEXT COLLATE "C", scheduled_ms BIGINT, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, guid)
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE INDEX user_task_runs_by_time ON user_task_runs (tenant, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_status ON user_task_runs (tenant, status, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_user ON user_task_runs (tenant, user_id, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_user_status
        ON user_task_runs (tenant, user_id, status, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_group ON user_task_runs (tenant, user_group, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_group_status
        ON user_task_runs (tenant, user_group, status, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_def ON user_task_runs (tenant, def_name, scheduled_ms, wf_run_key, guid);
      CREATE INDEX user_task_runs_by_def_status
        ON user_task_runs (tenant, def_name, status, scheduled_ms, wf_run_key, guid);
    `,
  },
  {
    version: 4,
    sql: `
      ALTER TABLE node_runs ADD COLUMN node_type TEXT COLLATE "C";
      CREATE INDEX wf_runs_by_spec ON wf_runs (tenant, wf_spec_name, start_ms, wf_run_key);
      CREATE INDEX wf_runs_by_spec_status ON wf_runs (tenant, wf_spec_name, status, start_ms, wf_run_key);
      CREATE INDEX wf_runs_by_spec_major
        ON wf_runs (tenant, wf_spec_name, wf_spec_major, start_ms, wf_run_key, wf_spec_revision);
      CREATE INDEX wf_runs_by_spec_major_status
        ON wf_runs (tenant, wf_spec_name, wf_spec_major, status, start_ms, wf_run_key, wf_spec_revision);
      CREATE INDEX node_runs_by_type_status
        ON node_runs (tenant, node_type, status, arrival_ms, wf_run_key, thread, position);
      CREATE INDEX task_runs_by_def ON task_runs (tenant, task_def_name, scheduled_ms, wf_run_key, task_guid);
      CREATE INDEX task_runs_by_def_status
        ON task_runs (tenant, task_def_name, status, scheduled_ms, wf_run_key, task_guid);
      CREATE INDEX external_events_by_def ON external_events (tenant, def_name, created_ms, wf_run_key, guid);
      CREATE INDEX external_events_by_def_claimed
        ON external_events (tenant, def_name, claimed, created_ms, wf_run_key, guid);
      CREATE TABLE variable_index (
        tenant TEXT COLLATE "C" NOT NULL, wf_run_key TEXT COLLATE "C" NOT NULL, thread INTEGER NOT NULL,
        field TEXT COLLATE "C" NOT NULL, var_name TEXT COLLATE "C" NOT NULL, value_key TEXT COLLATE "C" NOT NULL,
        wf_spec_name TEXT COLLATE "C" NOT NULL, wf_spec_major INTEGER NOT NULL, wf_spec_revision INTEGER NOT NULL,
        start_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, thread, field)
      );
      CREATE INDEX variable_index_by_value ON variable_index
        (tenant, wf_spec_name, field, value_key, start_ms, wf_run_key, thread, wf_spec_major, wf_spec_revision,
         var_name);
    `,
  },
  {
    version: 5,
    sql: `
      CREATE TABLE metrics_windows (
        tenant TEXT COLLATE "C" NOT NULL, kind TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
        major INTEGER NOT NULL, revision INTEGER NOT NULL, window_type INTEGER NOT NULL, window_start BIGINT NOT NULL,
        scheduled BIGINT NOT NULL, started BIGINT NOT NULL, completed BIGINT NOT NULL,
        errored BIGINT NOT NULL, schedule_to_start_total BIGINT NOT NULL,
        schedule_to_start_max BIGINT NOT NULL, start_to_complete_total BIGINT NOT NULL,
        start_to_complete_max BIGINT NOT NULL,
        PRIMARY KEY (tenant, kind, name, major, revision, window_type, window_start)
      );
    `,
  },
  {
    version: 6,
    sql: `
      CREATE TABLE tenants (id TEXT COLLATE "C" PRIMARY KEY, created_ms BIGINT NOT NULL);
      CREATE TABLE principals (id TEXT COLLATE "C" PRIMARY KEY, created_ms BIGINT NOT NULL, bytes BYTEA NOT NULL);
    `,
  },
  {
    version: 7,
    sql: `
      CREATE INDEX task_runs_by_run ON task_runs (tenant, wf_run_key, scheduled_ms, task_guid);
      CREATE INDEX user_task_runs_by_run ON user_task_runs (tenant, wf_run_key, scheduled_ms, guid);
      ALTER TABLE external_events ADD COLUMN created_sub INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX external_events_by_run
        ON external_events (tenant, wf_run_key, created_ms, created_sub, def_name, guid);
      CREATE INDEX workflow_events_by_run ON workflow_events (tenant, wf_run_key, created_ms, def_name, number);
    `,
  },
  {
    version: 8,
    sql: `
      CREATE INDEX task_runs_by_run_status ON task_runs (tenant, wf_run_key, status);
    `,
  },
  {
    version: 9,
    // Partitions (issue 11): see the SQLite migration 9.
    sql: `
      CREATE TABLE cluster_settings (name TEXT COLLATE "C" PRIMARY KEY, value BIGINT NOT NULL);
      CREATE TABLE partitions (
        part INTEGER PRIMARY KEY, owner TEXT COLLATE "C" NOT NULL DEFAULT '',
        epoch BIGINT NOT NULL DEFAULT 0, lease_until_ms BIGINT NOT NULL DEFAULT 0
      );
      CREATE TABLE servers (
        id TEXT COLLATE "C" PRIMARY KEY, address TEXT NOT NULL, internal_address TEXT NOT NULL,
        started_ms BIGINT NOT NULL, heartbeat_ms BIGINT NOT NULL, stopping INTEGER NOT NULL DEFAULT 0
      );
      ALTER TABLE task_queue ADD COLUMN part INTEGER NOT NULL DEFAULT -1;
      ALTER TABLE timers ADD COLUMN part INTEGER NOT NULL DEFAULT -1;
      CREATE INDEX task_queue_by_part ON task_queue (part, seq);
      CREATE INDEX timers_by_part ON timers (part);
      INSERT INTO cluster_settings (name, value) VALUES ('metadata_version', 0);
    `,
  },
  {
    version: 10,
    // see the SQLite migration 10: a metrics row per window and server
    sql: `
      ALTER TABLE metrics_windows ADD COLUMN shard TEXT COLLATE "C" NOT NULL DEFAULT '';
      ALTER TABLE metrics_windows DROP CONSTRAINT metrics_windows_pkey;
      ALTER TABLE metrics_windows
        ADD PRIMARY KEY (tenant, kind, name, major, revision, window_type, window_start, shard);
    `,
  },
  {
    version: 11,
    // (part, epoch) as a unique key: taking a partition (a new epoch) then changes a key, which waits for the
    // batches holding the fence (FOR KEY SHARE, pg.ts), while lease renewals do not (see pg.ts FENCE)
    sql: `
      CREATE UNIQUE INDEX partitions_by_epoch ON partitions (part, epoch);
    `,
  },
  {
    version: 12,
    // SearchTaskRun without a TaskDef and SearchWfRun without a WfSpec (every one: the dashboard's Task Runs
    // page and its most recent WfRuns), with and without a status
    sql: `
      CREATE INDEX wf_runs_by_time ON wf_runs (tenant, start_ms, wf_run_key);
      CREATE INDEX wf_runs_by_status ON wf_runs (tenant, status, start_ms, wf_run_key);
      CREATE INDEX task_runs_by_time ON task_runs (tenant, scheduled_ms, wf_run_key, task_guid);
      CREATE INDEX task_runs_by_status ON task_runs (tenant, status, scheduled_ms, wf_run_key, task_guid);
    `,
  },
  {
    version: 13,
    // see the SQLite migration 13: task worker groups and their workers' heartbeats
    sql: `
      CREATE TABLE task_worker_groups (
        tenant TEXT COLLATE "C" NOT NULL, task_def TEXT COLLATE "C" NOT NULL, created_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, task_def)
      );
      CREATE TABLE task_workers (
        tenant TEXT COLLATE "C" NOT NULL, task_def TEXT COLLATE "C" NOT NULL, worker_id TEXT COLLATE "C" NOT NULL,
        heartbeat_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, task_def, worker_id)
      );
    `,
  },
  {
    version: 14,
    // see the SQLite migration 14: scheduled WfRuns
    sql: `
      CREATE TABLE scheduled_wf_runs (
        tenant TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, wf_spec_name TEXT COLLATE "C" NOT NULL,
        major INTEGER NOT NULL, revision INTEGER NOT NULL, next_ms BIGINT NOT NULL, bytes BYTEA NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX scheduled_wf_runs_by_wf_spec ON scheduled_wf_runs (tenant, wf_spec_name, id);
    `,
  },
  {
    version: 15,
    // see the SQLite migration 15: SearchWorkflowEvent's index
    sql: `
      CREATE INDEX workflow_events_by_def ON workflow_events (tenant, def_name, created_ms, wf_run_key, number);
    `,
  },
];
