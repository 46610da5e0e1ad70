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
  {
    version: 3,
    // SearchUserTaskRun (B-UT-6): results in (scheduled_ms, wf_run_key, guid) order. Each criterion, and each
    // criterion with a status, has an index ending in that order, so a page is read from one index range
    // (further criteria filter within it) and a bookmark seeks straight to where the last page ended.
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
    // Search (B-SRCH-1…4): one index per combination of equality filters, each ending in the search's sort
    // order (time, then the object's key), so a page is one index range and a bookmark seeks into it.
    // variable_index holds one row per indexed field of a searchable variable (or json_indexes entry),
    // written and deleted with the variable; searches read it by value, in WfRun start-time order.
    sql: `
      ALTER TABLE node_runs ADD COLUMN node_type TEXT;
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
        tenant TEXT NOT NULL, wf_run_key TEXT NOT NULL, thread INTEGER NOT NULL, field TEXT NOT NULL,
        var_name TEXT NOT NULL, value_key TEXT NOT NULL,
        wf_spec_name TEXT NOT NULL, wf_spec_major INTEGER NOT NULL, wf_spec_revision INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, wf_run_key, thread, field)
      ) WITHOUT ROWID;
      CREATE INDEX variable_index_by_value ON variable_index
        (tenant, wf_spec_name, field, value_key, start_ms, wf_run_key, thread, wf_spec_major, wf_spec_revision,
         var_name);
    `,
  },
  {
    version: 5,
    // Metrics windows (B-SRCH-5): counters and duration sums / maxima (ms) per TaskDef ('task') or WfSpec
    // version ('wf'), window length (MetricsWindowLength) and window start (epoch ms).
    sql: `
      CREATE TABLE metrics_windows (
        tenant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, major INTEGER NOT NULL,
        revision INTEGER NOT NULL, window_type INTEGER NOT NULL, window_start INTEGER NOT NULL,
        scheduled INTEGER NOT NULL, started INTEGER NOT NULL, completed INTEGER NOT NULL,
        errored INTEGER NOT NULL, schedule_to_start_total INTEGER NOT NULL,
        schedule_to_start_max INTEGER NOT NULL, start_to_complete_total INTEGER NOT NULL,
        start_to_complete_max INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, name, major, revision, window_type, window_start)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    // Tenants and Principals (B-SEC-1…3): cluster-wide, few, read into memory at start. Every tenant that
    // already owns objects (from before tenants were stored) becomes a Tenant, so its data stays reachable.
    sql: `
      CREATE TABLE tenants (id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE principals (id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID;
      INSERT OR IGNORE INTO tenants (id, created_ms)
        SELECT DISTINCT tenant, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM metadata;
      INSERT OR IGNORE INTO tenants (id, created_ms)
        SELECT DISTINCT tenant, CAST(strftime('%s', 'now') AS INTEGER) * 1000 FROM wf_runs;
    `,
  },
  {
    version: 7,
    // The List RPCs (issue 15): each reads one page of a WfRun's objects in its list order, resuming after a
    // bookmark with a keyset condition. NodeRuns and Variables use their primary keys; the others get an
    // index in their order (a TaskRun or UserTaskRun without a scheduled time is stored, and sorts, as 0). ExternalEvents
    // posted in one millisecond keep their order: created_sub is the sub-millisecond part of created_at.
    sql: `
      UPDATE task_runs SET scheduled_ms = 0 WHERE scheduled_ms IS NULL;
      UPDATE user_task_runs SET scheduled_ms = 0 WHERE scheduled_ms IS NULL;
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
    // Loading a WfRun reads its unfinished TaskRuns (user task reminders) through this index, never its
    // whole history of TaskRuns.
    sql: `
      CREATE INDEX task_runs_by_run_status ON task_runs (tenant, wf_run_key, status);
    `,
  },
  {
    version: 9,
    // Partitions (issue 11): WfRuns fall into a fixed number of partitions (cluster_settings 'partitions', set
    // when the cluster is created), each owned by one server at a time under a lease with a fencing epoch
    // (partitions); servers announce themselves in servers. Queued tasks and timers carry their partition so
    // a new owner loads just its own; rows from before this migration (-1) get theirs when the store opens.
    // 'metadata_version' counts commits that changed metadata, tenants or principals (cache invalidation).
    sql: `
      CREATE TABLE cluster_settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE partitions (
        part INTEGER PRIMARY KEY, owner TEXT NOT NULL DEFAULT '',
        epoch INTEGER NOT NULL DEFAULT 0, lease_until_ms INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE servers (
        id TEXT PRIMARY KEY, address TEXT NOT NULL, internal_address TEXT NOT NULL,
        started_ms INTEGER NOT NULL, heartbeat_ms INTEGER NOT NULL, stopping INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      ALTER TABLE task_queue ADD COLUMN part INTEGER NOT NULL DEFAULT -1;
      ALTER TABLE timers ADD COLUMN part INTEGER NOT NULL DEFAULT -1;
      CREATE INDEX task_queue_by_part ON task_queue (part, seq);
      CREATE INDEX timers_by_part ON timers (part);
      INSERT INTO cluster_settings (name, value) VALUES ('metadata_version', 0);
    `,
  },
  {
    version: 10,
    // Metrics windows get a row per window and server (shard: the committing server's id), so the servers
    // of a cluster never wait on each other's counters; reads sum a window's rows.
    sql: `
      CREATE TABLE metrics_windows_sharded (
        tenant TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, major INTEGER NOT NULL,
        revision INTEGER NOT NULL, window_type INTEGER NOT NULL, window_start INTEGER NOT NULL,
        shard TEXT NOT NULL DEFAULT '',
        scheduled INTEGER NOT NULL, started INTEGER NOT NULL, completed INTEGER NOT NULL,
        errored INTEGER NOT NULL, schedule_to_start_total INTEGER NOT NULL,
        schedule_to_start_max INTEGER NOT NULL, start_to_complete_total INTEGER NOT NULL,
        start_to_complete_max INTEGER NOT NULL,
        PRIMARY KEY (tenant, kind, name, major, revision, window_type, window_start, shard)
      ) WITHOUT ROWID;
      INSERT INTO metrics_windows_sharded
        SELECT tenant, kind, name, major, revision, window_type, window_start, '', scheduled, started, completed,
          errored, schedule_to_start_total, schedule_to_start_max, start_to_complete_total, start_to_complete_max
        FROM metrics_windows;
      DROP TABLE metrics_windows;
      ALTER TABLE metrics_windows_sharded RENAME TO metrics_windows;
    `,
  },
  {
    version: 11,
    // the same unique key as PostgreSQL's migration 11 (there it makes a takeover wait for fenced batches;
    // SQLite serializes writers anyway)
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
    // Task worker groups (RegisterTaskWorker, GetTaskWorkerGroup) outlive a restart and are seen by every
    // server of a cluster: a group row (created when its first worker registered) and a row per worker with
    // its latest heartbeat.
    sql: `
      CREATE TABLE task_worker_groups (
        tenant TEXT NOT NULL, task_def TEXT NOT NULL, created_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, task_def)
      ) WITHOUT ROWID;
      CREATE TABLE task_workers (
        tenant TEXT NOT NULL, task_def TEXT NOT NULL, worker_id TEXT NOT NULL, heartbeat_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, task_def, worker_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 14,
    // Scheduled WfRuns (ScheduleWf): the schedule as stored protobuf bytes, the WfSpec it runs (searched by
    // name), and the time of its next tick (the durable cursor its owner fires from)
    sql: `
      CREATE TABLE scheduled_wf_runs (
        tenant TEXT NOT NULL, id TEXT NOT NULL, wf_spec_name TEXT NOT NULL, major INTEGER NOT NULL,
        revision INTEGER NOT NULL, next_ms INTEGER NOT NULL, bytes BLOB NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      CREATE INDEX scheduled_wf_runs_by_wf_spec ON scheduled_wf_runs (tenant, wf_spec_name, id);
    `,
  },
  {
    version: 15,
    // SearchWorkflowEvent: a WorkflowEventDef's events of every WfRun in (creation time, WfRun key, number)
    // order, so a page is one index range and a bookmark seeks into it
    sql: `
      CREATE INDEX workflow_events_by_def ON workflow_events (tenant, def_name, created_ms, wf_run_key, number);
    `,
  },
];
