import { dispatchCreated, type BrokerContext } from '../brokerContext.ts';
import { deleteDlqEntries, getDlqEntry, listDlq, type DlqEntry } from '../dlq/dlqStore.ts';
import { badRequest, notFound } from '../errors.ts';
import { callbackBody, callbackSpec } from '../delivery/callbackMessage.ts';
import { insertMessage } from '../messages/insertMessage.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import { cancelMessages } from '../messages/messageQueries.ts';
import { parseFlowControl } from '../publish/parseFlowControl.ts';
import { workflowCallbackFields } from '../workflows/failWorkflowRun.ts';
import { getRun, listSteps, reopenRun, resumeStep } from '../workflows/runStore.ts';
import { bulkSelection, page } from './dlqRoutes.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

type Mode = 'resume' | 'restart';

/**
 * Resume re-sends the failed step under the same run (its finished steps kept); restart re-sends the
 * run's initial step with every later step dropped. Both reopen the run and remove the DLQ entry.
 * `Upstash-Retries` and `Upstash-Flow-Control-*` on the request override the failed message's.
 */
async function reopen(ctx: BrokerContext, req: BrokerRequest, entry: DlqEntry, mode: Mode): Promise<{ json: unknown; message?: StoredMessage; cancelled: string[] }> {
  const workflow = entry.message.workflow;
  if (!workflow) throw badRequest(`dlq entry ${entry.dlqId} is not a workflow run`);
  const now = ctx.now();
  const retries = req.headers.get('upstash-retries');
  if (retries !== undefined && !/^\d{1,3}$/.test(retries)) throw badRequest('invalid Upstash-Retries header');
  const flow = parseFlowControl(req.headers.get('upstash-flow-control-key'), req.headers.get('upstash-flow-control-value'));
  return ctx.db.transaction(async (tx) => {
    const run = await getRun(tx, workflow.runId, true);
    if (!run || (await deleteDlqEntries(tx, [entry.dlqId])) === 0) return { json: undefined, cancelled: [] };
    const json = { workflowRunId: run.runId, workflowCreatedAt: run.createdAt };
    const base = { ...entry.message, notBefore: now, ...(retries === undefined ? {} : { maxRetries: Number(retries) }), ...(flow ? { flow } : {}) };
    if (mode === 'resume') {
      const inserted = await insertMessage(tx, base, { now, dueAt: now });
      if (inserted.deduplicated) return { json, cancelled: [] };
      await resumeStep(tx, run.runId, entry.message.id, inserted.message.id);
      return { json, message: inserted.message, cancelled: [] };
    }
    await reopenRun(tx, run.runId);
    const [initial] = (await listSteps(tx, run.runId)) ?? [];
    if (!initial) return { json, cancelled: [] };
    const cancelled = await cancelMessages(tx, { where: `workflow ->> 'runId' = $1`, params: [run.runId] }, now);
    await tx.query('DELETE FROM qstash.workflow_steps WHERE run_id = $1 AND seq > $2', [run.runId, initial.seq]);
    const spec = { ...base, url: run.url, body: initial.body, workflow: { runId: run.runId, url: run.url, callType: 'step' as const } };
    const inserted = await insertMessage(tx, spec, { now, dueAt: now });
    if (inserted.deduplicated) return { json, cancelled };
    await tx.query('UPDATE qstash.workflow_steps SET message_id = $2 WHERE seq = $1', [initial.seq, inserted.message.id]);
    return { json, message: inserted.message, cancelled };
  });
}

function reopenMany(mode: Mode) {
  return async (ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> => {
    const { entries, cursor } = await listDlq(ctx.db, bulkSelection(req, mode, true), page(req));
    const workflowRuns: unknown[] = [];
    for (const entry of entries) {
      const { json, message, cancelled } = await reopen(ctx, req, entry, mode);
      for (const id of cancelled) ctx.dispatcher.remove(id);
      if (message) dispatchCreated(ctx, [message]);
      if (json) workflowRuns.push(json);
    }
    return ok({ workflowRuns, ...(cursor ? { cursor } : {}) });
  };
}

async function removeMany(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { entries, cursor } = await listDlq(ctx.db, bulkSelection(req, 'delete', true), page(req));
  return ok({ deleted: await deleteDlqEntries(ctx.db, entries.map((e) => e.dlqId)), ...(cursor ? { cursor } : {}) });
}

/** `POST /v2/workflows/dlq/callback/{dlqId}`: publishes the run's failure callback again. */
async function retryFailureCallback(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const entry = await getDlqEntry(ctx.db, req.params.dlqId as string);
  const message = entry?.message;
  if (!entry || !message?.workflow) throw notFound('workflow dlq entry not found');
  if (!message.failureCallback) throw badRequest('the workflow run has no failure callback');
  const failureCallback = message.failureCallback;
  const now = ctx.now();
  const result = { status: entry.responseStatus, header: entry.responseHeader ?? {}, body: entry.responseBody };
  const created = await ctx.db.transaction(async (tx) => {
    const body = callbackBody(message, result, { dlqId: entry.dlqId, ...(await workflowCallbackFields(tx, message)) });
    const spec = callbackSpec({ message, kind: 'failure_callback', url: failureCallback, settings: message.callbackOptions.failureCallback, body, now });
    return insertMessage(tx, spec, { now, dueAt: spec.notBefore });
  });
  if (!created.deduplicated) dispatchCreated(ctx, [created.message]);
  const run = await getRun(ctx.db, message.workflow.runId);
  return ok({ workflowRunId: message.workflow.runId, workflowCreatedAt: run?.createdAt });
}

export const workflowDlqRoutes: Route[] = [
  { methods: ['POST'], pattern: '/v2/workflows/dlq/resume', handler: reopenMany('resume') },
  { methods: ['POST'], pattern: '/v2/workflows/dlq/restart', handler: reopenMany('restart') },
  { methods: ['POST'], pattern: '/v2/workflows/dlq/callback/:dlqId', handler: retryFailureCallback },
  { methods: ['DELETE'], pattern: '/v2/workflows/dlq', handler: removeMany },
];
