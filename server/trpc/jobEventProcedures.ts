import { tracked } from '@trpc/server';
import { JobIdInput } from '../../shared/jobApi.ts';
import type { Caller } from '../auth/token.ts';
import { OnEventsInput, OnStatusInput, type JobEvent } from '../../shared/jobEvent.ts';
import { assertJobInScope } from '../jobs/getJob.ts';
import { listJobEvents } from '../jobs/listJobEvents.ts';
import { ALL_ORGANIZATIONS, type EventScope } from '../jobs/scope.ts';
import { watchJobEvents, watchOrganizationEvents } from '../jobs/watchJobEvents.ts';
import { assertMayFilterOrganization, isOperator } from './access.ts';
import { inSubscriptionSlot } from './subscriptionSlot.ts';
import { protectedProcedure } from './trpc.ts';

/** Tags each event with its id, so SSE clients resume with `lastEventId` after a reconnect. */
async function* trackEvents(events: AsyncIterable<JobEvent>) {
  for await (const event of events) yield tracked(event.eventId, event);
}

/** A tenant's own organization; for an operator, the one it names (null: the jobs of none), or all. */
function eventScope(caller: Caller, organizationId: number | null | undefined): EventScope {
  if (!isOperator(caller)) return { organizationId: caller.organizationId };
  return organizationId === undefined ? ALL_ORGANIZATIONS : { organizationId };
}

/**
 * The job timeline as a query and as SSE subscriptions. Access is checked before the stream
 * starts (so NOT_FOUND is an ordinary tRPC error), and every event is of the caller's organization
 * or, for operators, of every organization and of the jobs of none (narrowed by `organizationId`).
 * Each open stream holds one of the caller's subscription slots (per user, organization, process).
 */
export const jobEventProcedures = {
  events: protectedProcedure.input(JobIdInput).query(({ ctx, input }) => listJobEvents(ctx.deps.db, ctx.jobScope, input.jobId)),

  onStatus: protectedProcedure.input(OnStatusInput).subscription(async ({ ctx, input, signal, path }) => {
    await assertJobInScope(ctx.deps.db, ctx.jobScope, input.jobId);
    return inSubscriptionSlot(ctx, { path, signal }, () => trackEvents(watchJobEvents(ctx.deps, input, signal)));
  }),

  onEvents: protectedProcedure.input(OnEventsInput).subscription(({ ctx, input, signal, path }) => {
    assertMayFilterOrganization(ctx.caller, input.organizationId);
    const scope = eventScope(ctx.caller, input.organizationId);
    return inSubscriptionSlot(ctx, { path, signal }, async function* () {
      // The organization stream's tracked id is a cursor (an event id, and ids still in flight below it).
      for await (const { event, cursor } of watchOrganizationEvents(ctx.deps, scope, input, signal)) yield tracked(cursor, event);
    });
  }),
};
