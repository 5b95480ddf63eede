CREATE UNLOGGED TABLE "rate_limit_buckets" (
	"key" text PRIMARY KEY NOT NULL,
	"level" double precision NOT NULL,
	"at_ms" double precision NOT NULL,
	"allowed" boolean NOT NULL
);
