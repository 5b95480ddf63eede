import { tracked } from '@trpc/server';
import { JobIdInput } from '../../shared/jobApi.ts';
import { OnEventsInput, OnStatusInput, type JobEvent } from '../../shared/jobEvent.ts';
import { assertJobInScope } from '../jobs/getJob.ts';
import { listJobEvents } from '../jobs/listJobEvents.ts';
import { watchJobEvents, watchOrganizationEvents } from '../jobs/watchJobEvents.ts';
import { inSubscriptionSlot } from './subscriptionSlot.ts';
import { protectedProcedure } from './trpc.ts';

/** Tags each event with its id, so SSE clients resume with `lastEventId` after a reconnect. */
async function* trackEvents(events: AsyncIterable<JobEvent>) {
  for await (const event of events) yield tracked(event.eventId, event);
}

/**
 * The job timeline as a query and as SSE subscriptions. Access is checked before the stream
 * starts (so NOT_FOUND is an ordinary tRPC error), and every event is of the caller's organization.
 * Each open stream holds one of the caller's subscription slots (per user, organization, process).
 */
export const jobEventProcedures = {
  events: protectedProcedure.input(JobIdInput).query(({ ctx, input }) => listJobEvents(ctx.deps.db, ctx.jobScope, input.jobId)),

  onStatus: protectedProcedure.input(OnStatusInput).subscription(async ({ ctx, input, signal, path }) => {
    await assertJobInScope(ctx.deps.db, ctx.jobScope, input.jobId);
    return inSubscriptionSlot(ctx, { path, signal }, () => trackEvents(watchJobEvents(ctx.deps, input, signal)));
  }),

  onEvents: protectedProcedure.input(OnEventsInput).subscription(({ ctx, input, signal, path }) =>
    inSubscriptionSlot(ctx, { path, signal }, async function* () {
      // The organization stream's tracked id is a cursor (an event id, and ids still in flight below it).
      for await (const { event, cursor } of watchOrganizationEvents(ctx.deps, ctx.caller.organizationId, input, signal)) yield tracked(cursor, event);
    }),
  ),
};
