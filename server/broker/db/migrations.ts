/**
 * The broker's own schema, versioned. Append only: never edit a shipped entry.
 * Times are epoch milliseconds in bigint columns; forwarded headers are jsonb `{name: [values]}`.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE qstash.messages (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  kind text NOT NULL DEFAULT 'message',
  url text NOT NULL,
  method text NOT NULL,
  header jsonb NOT NULL,
  body bytea NOT NULL,
  topic_name text,
  endpoint_name text,
  queue_name text,
  schedule_id text,
  max_retries integer NOT NULL,
  retried integer NOT NULL DEFAULT 0,
  retry_delay text,
  callback text,
  failure_callback text,
  callback_options jsonb NOT NULL DEFAULT '{}',
  timeout_ms bigint,
  not_before bigint NOT NULL,
  created_at bigint NOT NULL,
  due_at bigint NOT NULL,
  state text NOT NULL,
  flow_key text,
  flow_parallelism integer,
  flow_rate integer,
  flow_period integer,
  labels jsonb NOT NULL DEFAULT '[]',
  caller_ip text
);
CREATE UNIQUE INDEX messages_seq_idx ON qstash.messages (seq);

CREATE TABLE qstash.dlq (
  seq bigserial PRIMARY KEY,
  dlq_id text NOT NULL UNIQUE,
  message_id text NOT NULL,
  message jsonb NOT NULL,
  body bytea NOT NULL,
  url text NOT NULL,
  topic_name text,
  queue_name text,
  schedule_id text,
  labels jsonb NOT NULL DEFAULT '[]',
  flow_key text,
  caller_ip text,
  response_status integer,
  response_header jsonb,
  response_body bytea,
  created_at bigint NOT NULL
);

CREATE TABLE qstash.events (
  seq bigserial PRIMARY KEY,
  time bigint NOT NULL,
  message_id text NOT NULL,
  state text NOT NULL,
  url text NOT NULL,
  topic_name text,
  queue_name text,
  schedule_id text,
  labels jsonb NOT NULL DEFAULT '[]',
  flow_key text,
  caller_ip text,
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_message_id_idx ON qstash.events (message_id);
CREATE INDEX events_time_idx ON qstash.events (time);

CREATE TABLE qstash.schedules (
  id text PRIMARY KEY,
  cron text NOT NULL,
  destination text NOT NULL,
  template jsonb NOT NULL,
  body bytea NOT NULL,
  created_at bigint NOT NULL,
  is_paused boolean NOT NULL DEFAULT false,
  last_schedule_time bigint,
  next_schedule_time bigint,
  last_schedule_states jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE qstash.dedup (
  key text PRIMARY KEY,
  message_id text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE TABLE qstash.queues (
  name text PRIMARY KEY,
  parallelism integer NOT NULL DEFAULT 1,
  paused boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE qstash.url_groups (
  name text PRIMARY KEY,
  endpoints jsonb NOT NULL DEFAULT '[]',
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
`,
  },
  {
    version: 2,
    sql: `
ALTER TABLE qstash.messages ADD COLUMN redact jsonb
`,
  },
  {
    version: 3,
    sql: `
ALTER TABLE qstash.messages ADD COLUMN workflow jsonb;
CREATE INDEX messages_workflow_run_idx ON qstash.messages ((workflow ->> 'runId'));

CREATE TABLE qstash.workflow_runs (
  run_id text PRIMARY KEY,
  url text NOT NULL,
  state text NOT NULL,
  created_at bigint NOT NULL,
  completed_at bigint,
  config jsonb NOT NULL,
  labels jsonb NOT NULL DEFAULT '[]',
  response text,
  dlq_id text,
  failure jsonb
);
CREATE INDEX workflow_runs_created_idx ON qstash.workflow_runs (created_at);

CREATE TABLE qstash.workflow_steps (
  seq bigserial PRIMARY KEY,
  run_id text NOT NULL,
  message_id text NOT NULL UNIQUE,
  call_type text NOT NULL,
  body bytea NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX workflow_steps_run_idx ON qstash.workflow_steps (run_id, seq);

CREATE TABLE qstash.workflow_waiters (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL,
  run_id text NOT NULL,
  url text NOT NULL,
  deadline bigint NOT NULL,
  headers jsonb NOT NULL,
  request jsonb NOT NULL,
  timeout_message_id text,
  created_at bigint NOT NULL
);
CREATE INDEX workflow_waiters_event_idx ON qstash.workflow_waiters (event_id)
`,
  },
];
