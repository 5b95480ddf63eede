import { defineJobHandler } from '../jobs/defineJobHandler.ts';

/** Deletes terminal jobs and expired files past the retention (built by createDataJobs with the file storage). */
export default defineJobHandler('cleanup-old-data', { create: ({ dataJobs }) => dataJobs['cleanup-old-data'] });
