CREATE TABLE "job_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"organization_id" integer,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"progress" real,
	"message" text,
	"retry_count" integer NOT NULL,
	"max_retries" integer NOT NULL,
	"next_attempt_at" timestamp (3) with time zone,
	"error" jsonb,
	"result" jsonb,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_executions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"payload" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"result" jsonb,
	"error" jsonb,
	"progress" real,
	"progress_message" text,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"max_retries" integer NOT NULL,
	"timeout_ms" integer NOT NULL,
	"attempt_token" uuid,
	"lease_until" timestamp (3) with time zone,
	"publish_generation" integer DEFAULT 0 NOT NULL,
	"message_id" text,
	"published_at" timestamp (3) with time zone,
	"run_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"publish_options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"next_attempt_at" timestamp (3) with time zone,
	"user_id" text,
	"organization_id" integer,
	"idempotency_key" text,
	"schedule_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"completed_at" timestamp (3) with time zone,
	"cancelled_at" timestamp (3) with time zone,
	CONSTRAINT "job_executions_status_check" CHECK ("job_executions"."status" IN ('pending', 'processing', 'retrying', 'completed', 'failed', 'cancelled')),
	CONSTRAINT "job_executions_type_check" CHECK ("job_executions"."type" IN ('send-email', 'process-webhook', 'process-stripe-webhook', 'export-data', 'generate-report', 'cleanup-old-data')),
	CONSTRAINT "job_executions_progress_check" CHECK ("job_executions"."progress" IS NULL OR ("job_executions"."progress" >= 0 AND "job_executions"."progress" <= 1))
);
--> statement-breakpoint
CREATE TABLE "job_schedules" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"cron" text NOT NULL,
	"timezone" text,
	"payload" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"user_id" text,
	"organization_id" integer,
	"paused" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_schedules_type_check" CHECK ("job_schedules"."type" IN ('send-email', 'process-webhook', 'process-stripe-webhook', 'export-data', 'generate-report', 'cleanup-old-data'))
);
--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_job_executions_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."job_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_events_job_idx" ON "job_events" USING btree ("job_id","id");--> statement-breakpoint
CREATE INDEX "job_events_org_idx" ON "job_events" USING btree ("organization_id","id");--> statement-breakpoint
CREATE INDEX "job_executions_type_idx" ON "job_executions" USING btree ("type");--> statement-breakpoint
CREATE INDEX "job_executions_status_idx" ON "job_executions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "job_executions_user_id_idx" ON "job_executions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "job_executions_created_at_idx" ON "job_executions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "job_executions_org_created_idx" ON "job_executions" USING btree ("organization_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "job_executions_idempotency_idx" ON "job_executions" USING btree (coalesce("organization_id", -1),"idempotency_key") WHERE "job_executions"."idempotency_key" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "job_executions_sweep_idx" ON "job_executions" USING btree ("status","published_at");--> statement-breakpoint
CREATE INDEX "job_schedules_org_idx" ON "job_schedules" USING btree ("organization_id");