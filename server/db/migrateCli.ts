// `npm run db:migrate`: applies migrations to DATABASE_URL, or to the PGlite database in DATA_DIR.
import { loadEnv } from '../env.ts';
import { createLogger } from '../logger.ts';
import { openDatabase } from './database.ts';
import { migrateDatabase } from './migrate.ts';
import { join } from 'node:path';

const env = loadEnv();
const log = createLogger({ level: env.LOG_LEVEL });
const database = await openDatabase({ url: env.DATABASE_URL, dataDir: join(env.DATA_DIR, 'pglite') });
await migrateDatabase(database);
await database.close();
log.info({ driver: database.driver }, '[db] Migrations applied');
