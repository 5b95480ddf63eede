import { defineJobHandler } from '../jobs/defineJobHandler.ts';

/** Exports one entity type as CSV or NDJSON (built by createDataJobs with the export registry). */
export default defineJobHandler('export-data', { create: ({ dataJobs }) => dataJobs['export-data'] });
