import { BaseJobMetadata } from '../../shared/jobApi.ts';
import { JobValidationError } from './errors.ts';

/** Metadata as stored on a row and delivered in the envelope: validated, `createdAt` set. */
export interface ParsedMetadata {
  metadata: BaseJobMetadata & { createdAt: string };
  /** The `user_id` column: a decimal string, whichever form the caller used. */
  userId: string | null;
  organizationId: number | null;
}

/** Validates the seed's `BaseJobMetadata` before anything is written: bad metadata is a JobValidationError. */
export function parseMetadata(input: unknown, now: Date = new Date()): ParsedMetadata {
  const parsed = BaseJobMetadata.safeParse(input ?? {});
  if (!parsed.success) {
    throw new JobValidationError('Invalid job metadata', parsed.error.issues.map((i) => ({ ...i, path: ['metadata', ...i.path] })));
  }
  const metadata = { ...parsed.data, createdAt: parsed.data.createdAt ?? now.toISOString() };
  return { metadata, userId: metadata.userId === undefined ? null : String(metadata.userId), organizationId: metadata.organizationId ?? null };
}

/**
 * The idempotency key of an enqueue: the option, or the seed's place for it (`metadata.idempotencyKey`).
 * Both given and different is a contradiction the caller must resolve.
 */
export function idempotencyKeyOf(optionKey: string | undefined, metadata: BaseJobMetadata): string | undefined {
  const metadataKey = metadata.idempotencyKey;
  if (optionKey !== undefined && metadataKey !== undefined && optionKey !== metadataKey) {
    throw new JobValidationError('Two different idempotency keys', [{ path: ['metadata', 'idempotencyKey'], message: 'differs from the idempotencyKey option; give one' }]);
  }
  return optionKey ?? metadataKey;
}
