CREATE TABLE "bulk_operation_items" (
	"operation_id" uuid NOT NULL,
	"job_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"message" text,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bulk_operation_items_operation_id_job_id_pk" PRIMARY KEY("operation_id","job_id")
);
--> statement-breakpoint
CREATE TABLE "bulk_operations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"action" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"filter" jsonb NOT NULL,
	"organization_id" integer,
	"requested_by" text NOT NULL,
	"requested_role" text NOT NULL,
	"matched" integer NOT NULL,
	"processed" integer DEFAULT 0 NOT NULL,
	"succeeded" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "job_replays" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"original_job_id" uuid NOT NULL,
	"payload_edited" boolean NOT NULL,
	"requested_by" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "operator_audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"user_id" text NOT NULL,
	"organization_id" integer NOT NULL,
	"action" text NOT NULL,
	"input" jsonb,
	"job_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"bulk_operation_id" uuid,
	"outcome" text NOT NULL,
	"request_id" text
);
--> statement-breakpoint
ALTER TABLE "bulk_operation_items" ADD CONSTRAINT "bulk_operation_items_operation_id_bulk_operations_id_fk" FOREIGN KEY ("operation_id") REFERENCES "public"."bulk_operations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_replays" ADD CONSTRAINT "job_replays_job_id_job_executions_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."job_executions"("job_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bulk_operations_org_created_idx" ON "bulk_operations" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_replays_original_idx" ON "job_replays" USING btree ("original_job_id");--> statement-breakpoint
CREATE INDEX "operator_audit_log_at_idx" ON "operator_audit_log" USING btree ("at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "job_executions_completed_idx" ON "job_executions" USING btree ("completed_at") WHERE "job_executions"."status" = 'completed';