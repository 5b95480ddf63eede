import type { Queryable } from '../db/executor.ts';
import { badRequest } from '../errors.ts';
import type { MessageSpec, StoredMessage } from '../messages/messageModel.ts';
import { appendStep, createRun, getRun, listSteps, type RunConfig } from './runStore.ts';
import { RECORDED_CALL_TYPES } from './workflowInfo.ts';

/** Which options the publish set itself; the others are inherited from the run. */
export interface ExplicitOptions {
  retries: boolean;
  retryDelay: boolean;
  timeout: boolean;
}

export type Binding = { spec: MessageSpec } | { duplicateOf: string };

/**
 * Ties a workflow message to its run, inside the publishing transaction: `Init: true` starts the
 * run (a second trigger with the same run id is answered as deduplicated); any other workflow
 * message needs a live run (a 400 otherwise, which the SDK reads as "the run already ended") and
 * inherits the run's retries, retry delay, timeout, failure callback, flow control, labels and
 * redaction unless it set them. A `context.call` request (`toCallback`) keeps its own settings.
 */
export async function bindToRun(tx: Queryable, spec: MessageSpec, explicit: ExplicitOptions, now: number): Promise<Binding> {
  const workflow = spec.workflow;
  if (!workflow || workflow.callType === 'failureCall') return { spec };
  if (workflow.init) {
    const config: RunConfig = {
      maxRetries: spec.maxRetries,
      retryDelay: spec.retryDelay,
      timeoutMs: spec.timeoutMs,
      failureCallback: spec.failureCallback,
      failureCallbackSettings: spec.callbackOptions.failureCallback,
      flow: spec.flow,
      redact: spec.redact,
    };
    const created = await createRun(tx, { runId: workflow.runId, url: workflow.url, createdAt: now, config: JSON.parse(JSON.stringify(config)) as RunConfig, labels: spec.labels });
    if (created) return { spec };
    const [first] = (await listSteps(tx, workflow.runId)) ?? [];
    return { duplicateOf: first?.messageId ?? '' };
  }
  const run = await getRun(tx, workflow.runId);
  if (!run || run.state !== 'RUN_STARTED') throw badRequest(`workflow run ${workflow.runId} is not active`);
  if (workflow.callType === 'toCallback') return { spec };
  const c = run.config;
  return {
    spec: {
      ...spec,
      maxRetries: explicit.retries ? spec.maxRetries : c.maxRetries,
      retryDelay: explicit.retryDelay ? spec.retryDelay : c.retryDelay,
      timeoutMs: explicit.timeout ? spec.timeoutMs : c.timeoutMs,
      failureCallback: spec.failureCallback ?? c.failureCallback,
      callbackOptions: spec.failureCallback || !c.failureCallbackSettings ? spec.callbackOptions : { ...spec.callbackOptions, failureCallback: c.failureCallbackSettings },
      flow: spec.flow ?? c.flow,
      labels: spec.labels.length > 0 ? spec.labels : run.labels,
      redact: spec.redact ?? c.redact,
    },
  };
}

/** Records the message as the run's next step entry (a waitForEvent timeout waits until it is claimed). */
export async function recordStep(tx: Queryable, message: StoredMessage): Promise<void> {
  const workflow = message.workflow;
  if (!workflow || workflow.waiterId !== undefined || !RECORDED_CALL_TYPES.includes(workflow.callType)) return;
  await appendStep(tx, { runId: workflow.runId, messageId: message.id, callType: workflow.callType, body: message.body, createdAt: message.createdAt });
}
