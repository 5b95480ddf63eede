import { z } from 'zod';
import { JobTypeSchema } from './catalogue.ts';
import { JobError, JobId } from './jobApi.ts';
import { JobStatus } from './jobStatus.ts';

/** One entry of a job's timeline, as `jobs.events`, `jobs.onStatus` and `jobs.onEvents` carry it. */
export const JobEvent = z.object({
  /** Increasing per job; pass the last one seen as `lastEventId` to resume a stream. */
  eventId: z.string(),
  jobId: JobId,
  type: JobTypeSchema,
  status: JobStatus,
  /** Fraction done, 0–1, when the handler reported progress. */
  progress: z.number().nullable(),
  /** The handler's progress message, or what caused the event (`manual retry`, `lease expired`…). */
  message: z.string().nullable(),
  /** Failed attempts so far. */
  retryCount: z.number().int(),
  maxRetries: z.number().int(),
  nextAttemptAt: z.date().nullable(),
  error: JobError.nullable(),
  /** The handler's result, on `completed` only. */
  result: z.unknown().nullable(),
  at: z.date(),
});
export type JobEvent = z.infer<typeof JobEvent>;

const EventId = z.string().regex(/^\d{1,18}$/, 'an eventId from a previous event');

export const OnStatusInput = z.object({ jobId: JobId, lastEventId: EventId.nullish() });
export const OnEventsInput = z.object({ type: JobTypeSchema.optional(), status: JobStatus.optional(), lastEventId: EventId.nullish() });
export type OnEventsInput = z.infer<typeof OnEventsInput>;
