import { billingRecordsExport } from './billingRecordsExport.ts';
import { createExportRegistry, type ExportRegistry } from './exportRegistry.ts';
import { jobsExport } from './jobsExport.ts';
import { usersExport } from './usersExport.ts';
import { webhookEventsExport } from './webhookEventsExport.ts';

/** The built-in entity types (`jobs`; admin-only `webhook-events`, `billing-records`, `users`); host apps `register` more. */
export function createDefaultExportRegistry(): ExportRegistry {
  return createExportRegistry()
    .register('jobs', jobsExport)
    .register('webhook-events', webhookEventsExport)
    .register('billing-records', billingRecordsExport)
    .register('users', usersExport);
}
