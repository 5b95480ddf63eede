import type { Queryable } from '../db/executor.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import type { AttemptResult } from '../messages/settleMessage.ts';
import { endRun, getRun, listSteps, setRunFailure } from './runStore.ts';
import { deleteRunWaiters } from './waiterStore.ts';
import { RUN_FAILING_CALL_TYPES } from './workflowInfo.ts';

/** A step (or call result) that ran out of retries fails its run, which keeps the DLQ id for resume. */
export async function failWorkflowRun(tx: Queryable, message: StoredMessage, dlqId: string, now: number): Promise<void> {
  const workflow = message.workflow;
  if (!workflow || !RUN_FAILING_CALL_TYPES.includes(workflow.callType)) return;
  if (await endRun(tx, workflow.runId, { state: 'RUN_FAILED', now, dlqId })) await deleteRunWaiters(tx, workflow.runId);
}

/** Extra callback-body fields for a workflow message: the run, and its initial body as `sourceBody`. */
export async function workflowCallbackFields(tx: Queryable, message: StoredMessage): Promise<Record<string, unknown>> {
  const workflow = message.workflow;
  if (!workflow || workflow.callType === 'toCallback') return {};
  const run = await getRun(tx, workflow.runId);
  const [initial] = (await listSteps(tx, workflow.runId)) ?? [];
  return {
    workflowRunId: workflow.runId,
    workflowUrl: workflow.url,
    ...(run ? { workflowCreatedAt: run.createdAt } : {}),
    ...(initial ? { sourceBody: initial.body.toString('base64') } : {}),
  };
}

/** Remembers the failure callback on the run, for the logs' `failureFunction`. */
export async function noteFailureCallback(tx: Queryable, source: StoredMessage, callback: StoredMessage, result: AttemptResult): Promise<void> {
  if (!source.workflow) return;
  await setRunFailure(tx, source.workflow.runId, {
    messageId: callback.id,
    url: callback.url,
    failStatus: result.status ?? 0,
    failResponse: result.body.toString('utf8'),
    failHeaders: result.header,
  });
}
