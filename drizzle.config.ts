import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: ['./server/db/schema.ts', './server/db/filesSchema.ts', './server/db/billingSchema.ts', './server/db/webhookSchema.ts', './server/db/rateLimitSchema.ts', './server/db/usersSchema.ts', './server/db/opsSchema.ts'],
  out: './drizzle',
});
