import { billingRecordsExport } from './billingRecordsExport.ts';
import { createExportRegistry, type ExportRegistry } from './exportRegistry.ts';
import { jobsExport } from './jobsExport.ts';
import { webhookEventsExport } from './webhookEventsExport.ts';

/** The built-in entity types (`jobs`, `webhook-events`, `billing-records`); host apps `register` more. */
export function createDefaultExportRegistry(): ExportRegistry {
  return createExportRegistry().register('jobs', jobsExport).register('webhook-events', webhookEventsExport).register('billing-records', billingRecordsExport);
}
