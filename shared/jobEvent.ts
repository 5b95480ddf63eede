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

/** Most ids an organization stream's cursor carries besides its position. */
export const MAX_CURSOR_HOLES = 200;

/**
 * Where an organization stream (`jobs.onEvents`) stands: every event up to `after` was given,
 * except `holes`, ids that were allocated but not yet committed when it got there (event ids
 * are allocated at insert, events are announced at commit). Written `after` or
 * `after~hole.hole…`; a plain event id is a cursor without holes.
 */
export interface OrganizationCursor {
  after: number;
  holes: number[];
}

export const OrganizationCursorText = z
  .string()
  .max(20 * (MAX_CURSOR_HOLES + 1))
  .regex(/^\d{1,18}(~\d{1,18}(\.\d{1,18})*)?$/, 'a lastEventId from a previous event');

export function formatOrganizationCursor({ after, holes }: OrganizationCursor): string {
  return holes.length === 0 ? String(after) : `${after}~${holes.slice(-MAX_CURSOR_HOLES).join('.')}`;
}

/** Reads a cursor that passed `OrganizationCursorText`. */
export function parseOrganizationCursor(text: string): OrganizationCursor {
  const [after, holes] = text.split('~');
  return { after: Number(after), holes: holes ? holes.split('.').map(Number) : [] };
}

export const OnStatusInput = z.object({ jobId: JobId, lastEventId: EventId.nullish() });
export const OnEventsInput = z.object({
  type: JobTypeSchema.optional(),
  status: JobStatus.optional(),
  lastEventId: OrganizationCursorText.nullish(),
  /**
   * Operators only: the one organization to stream (null: the jobs of no organization). Default:
   * every organization's events, and those of jobs of none. A tenant may pass only its own.
   */
  organizationId: z.number().int().min(1).max(2_147_483_647).nullable().optional(),
});
export type OnEventsInput = z.infer<typeof OnEventsInput>;
