CREATE TABLE "generated_files" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" integer NOT NULL,
	"kind" text NOT NULL,
	"job_id" uuid,
	"storage_key" text NOT NULL,
	"format" text NOT NULL,
	"content_type" text NOT NULL,
	"file_name" text NOT NULL,
	"bytes" bigint NOT NULL,
	"row_count" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "generated_files_kind_check" CHECK ("generated_files"."kind" IN ('export', 'report'))
);
--> statement-breakpoint
ALTER TABLE "generated_files" ADD CONSTRAINT "generated_files_job_id_job_executions_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."job_executions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "generated_files_job_idx" ON "generated_files" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "generated_files_expires_idx" ON "generated_files" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "generated_files_org_idx" ON "generated_files" USING btree ("organization_id");