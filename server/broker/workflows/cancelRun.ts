import type { BrokerContext } from '../brokerContext.ts';
import { cancelMessages } from '../messages/messageQueries.ts';
import { endRun } from './runStore.ts';
import { deleteRunWaiters } from './waiterStore.ts';

/** Cancels a live run: RUN_CANCELED, its pending messages cancelled, its waiters dropped. False when it was not live. */
export async function cancelRun(ctx: BrokerContext, runId: string): Promise<boolean> {
  const messageIds = await ctx.db.transaction(async (tx) => {
    if (!(await endRun(tx, runId, { state: 'RUN_CANCELED', now: ctx.now() }))) return undefined;
    await deleteRunWaiters(tx, runId);
    return cancelMessages(tx, { where: `workflow ->> 'runId' = $1`, params: [runId] }, ctx.now());
  });
  for (const id of messageIds ?? []) ctx.dispatcher.remove(id);
  return messageIds !== undefined;
}
