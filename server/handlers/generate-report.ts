import { defineJobHandler } from '../jobs/defineJobHandler.ts';

/** Generates an analytics report as PDF, CSV or JSON (built by createDataJobs with the file storage). */
export default defineJobHandler('generate-report', { create: ({ dataJobs }) => dataJobs['generate-report'] });
