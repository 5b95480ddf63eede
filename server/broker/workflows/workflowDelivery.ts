import type { Executor } from '../db/executor.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import { appendStep, getRun, listSteps } from './runStore.ts';
import { claimWaiterById } from './waiterStore.ts';

export type WorkflowDelivery = { body: Buffer; headers: Record<string, string> } | { obsolete: true };

/**
 * What a workflow message is sent as. A step goes to the workflow URL with the run's step entries
 * up to its own as the body (`[{messageId, body, callType}]`, the SDK's non-lazy form); callback
 * results and failure callbacks keep their body; all three carry `Upstash-Workflow-RunId`, `-Url`
 * and `-CreatedAt`. A `context.call` request goes out as a plain message. A waitForEvent timeout
 * first claims its waiter: if a notify got there first, it is obsolete and dropped.
 */
export async function prepareWorkflowDelivery(db: Executor, message: StoredMessage): Promise<WorkflowDelivery> {
  const workflow = message.workflow;
  if (!workflow || workflow.callType === 'toCallback') return { body: message.body, headers: {} };
  const run = await getRun(db, workflow.runId);
  const headers: Record<string, string> = {
    'Upstash-Workflow-RunId': workflow.runId,
    'Upstash-Workflow-Url': workflow.url,
    ...(run ? { 'Upstash-Workflow-CreatedAt': String(run.createdAt) } : {}),
    ...(message.labels.length > 0 ? { 'Upstash-Label': message.labels.join(',') } : {}),
  };
  if (workflow.callType !== 'step') return { body: message.body, headers };
  let steps = await listSteps(db, workflow.runId, message.id);
  if (!steps && workflow.waiterId !== undefined) {
    const waiterId = workflow.waiterId;
    const claimed = await db.transaction(async (tx) => {
      if (!(await claimWaiterById(tx, waiterId))) return false;
      await appendStep(tx, { runId: workflow.runId, messageId: message.id, callType: 'step', body: message.body, createdAt: message.createdAt });
      return true;
    });
    if (!claimed) return { obsolete: true };
    steps = await listSteps(db, workflow.runId, message.id);
  }
  // No entries (the run was removed): an empty body makes the SDK fetch them, get a 404 and stop.
  if (!steps) return { body: Buffer.alloc(0), headers };
  const body = steps.map((e) => ({ messageId: e.messageId, body: e.body.toString('base64'), callType: e.callType }));
  return { body: Buffer.from(JSON.stringify(body)), headers };
}
