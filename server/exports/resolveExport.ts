import type { JobPayload } from '../../shared/catalogue.ts';
import { JobValidationError } from '../jobs/errors.ts';
import type { ExportEntity, ExportRegistry } from './exportRegistry.ts';

/**
 * The entity and parsed filters an export payload names. Throws `JobValidationError` (BAD_REQUEST
 * at enqueue, a non-retryable failure in the handler) for an unknown entity type or bad filters.
 */
export function resolveExport(registry: ExportRegistry, payload: JobPayload<'export-data'>): { entity: ExportEntity; filters: unknown } {
  const entity = registry.get(payload.entityType);
  if (!entity) {
    const known = registry.entityTypes().join(', ');
    throw new JobValidationError(`Unknown export entity type "${payload.entityType}"`, [
      { path: ['entityType'], message: `unknown entity type; one of: ${known}`, code: 'invalid_value' },
    ]);
  }
  const filters = entity.filters.safeParse(payload.filters);
  if (!filters.success) {
    const issues = filters.error.issues.map((i) => ({ path: ['filters', ...i.path], message: i.message, code: i.code }));
    throw new JobValidationError(`Invalid filters for export entity type "${payload.entityType}"`, issues);
  }
  return { entity, filters: filters.data };
}
