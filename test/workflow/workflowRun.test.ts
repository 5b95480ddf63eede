import { serve } from '@upstash/workflow/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../broker/support/waitFor.ts';
import { startWorkflowHarness, type WorkflowHarness } from './support/workflowHarness.ts';

// Issue 13: @upstash/workflow runs against the embedded broker, durably, on both databases.
let h: WorkflowHarness;
const executions = new Map<string, number>();
const ran = (runId: string, step: string) => executions.get(`${runId}:${step}`) ?? 0;
const failures: { runId: string; failStatus: number; failResponse: string; payload: unknown }[] = [];
const calls: unknown[] = [];
let failFinalStep = false;

interface Input {
  n: number;
}

beforeAll(async () => {
  h = await startWorkflowHarness();
  h.app.post('/echo', (req, res) => {
    calls.push(req.body);
    res.status(200).json({ echoed: req.body as unknown, header: req.get('x-call') });
  });
  h.app.use(
    '/wf/demo',
    serve<Input>(
      async (context) => {
        const count = (step: string) => executions.set(`${context.workflowRunId}:${step}`, ran(context.workflowRunId, step) + 1);
        const a = await context.run('one', () => {
          count('one');
          return context.requestPayload.n + 1;
        });
        const b = await context.run('two', () => {
          count('two');
          return a * 2;
        });
        await context.sleep('nap', 1);
        const called = await context.call<{ echoed: { b: number }; header: string }>('call-echo', {
          url: `${h.appUrl}/echo`,
          method: 'POST',
          body: JSON.stringify({ b }),
          headers: { 'Content-Type': 'application/json', 'X-Call': 'yes' },
        });
        const c = await context.run('three', () => {
          count('three');
          return { b, echoed: called.body.echoed.b, status: called.status, header: called.body.header };
        });
        const { eventData, timeout } = await context.waitForEvent('approval', `approval-${context.workflowRunId}`, { timeout: '1h' });
        return context.run('final', () => {
          count('final');
          if (failFinalStep) throw new Error('final step exploded');
          return { ...c, eventData, timeout };
        });
      },
      {
        qstashClient: h.qstash,
        receiver: h.receiver,
        env: {},
        failureFunction: async ({ context, failStatus, failResponse }) => {
          failures.push({ runId: context.workflowRunId, failStatus, failResponse, payload: context.requestPayload });
        },
      },
    ),
  );
});
afterAll(async () => {
  await h?.close();
});

async function runLog(workflowRunId: string) {
  const { runs } = await h.workflows.logs({ workflowRunId });
  return runs[0];
}

async function waitForWaiter(eventId: string) {
  return waitFor(async () => (await h.workflows.getWaiters({ eventId })).length === 1, { what: `a waiter on ${eventId}`, timeoutMs: 20_000 });
}

describe('@upstash/workflow against the embedded broker', () => {
  it('runs three steps, a sleep, a context.call and a waitForEvent woken by notify; a broker restart loses nothing and repeats no step', async () => {
    const { workflowRunId } = await h.workflows.trigger({ url: `${h.appUrl}/wf/demo`, body: { n: 1 }, retries: 0 });
    expect(workflowRunId).toMatch(/^wfr_/);
    const eventId = `approval-${workflowRunId}`;
    await waitForWaiter(eventId);
    expect(calls).toContainEqual({ b: 4 });
    // Restart once the step that registered the wait has been answered: only the wait's timeout is pending.
    await waitFor(() => h.broker.pendingCount() === 1, { what: 'the run to be parked' });

    await h.restartBroker();
    expect((await h.workflows.getWaiters({ eventId }))[0]?.url).toBe(`${h.appUrl}/wf/demo`);
    const notified = await h.workflows.notify({ eventId, eventData: { approved: true } });
    expect(notified).toHaveLength(1);
    expect(notified[0]?.messageId).toMatch(/^msg_/);

    const done = await waitFor(async () => {
      const log = await runLog(workflowRunId);
      return log?.workflowState === 'RUN_SUCCESS' && log;
    }, { what: 'the run to succeed', timeoutMs: 20_000 });
    expect(JSON.parse(done.workflowRunResponse ?? 'null')).toEqual({ b: 4, echoed: 4, status: 200, header: 'yes', eventData: { approved: true }, timeout: false });
    for (const step of ['one', 'two', 'three', 'final']) expect(ran(workflowRunId, step), step).toBe(1);
    expect(calls.filter((c) => JSON.stringify(c) === '{"b":4}')).toHaveLength(1);
    const names = done.steps.flatMap((g) => g.steps.map((s) => ('stepName' in s ? s.stepName : undefined)));
    expect(names).toEqual(expect.arrayContaining(['init', 'one', 'two', 'nap', 'call-echo', 'three', 'approval', 'final']));
    // The run ended: its steps are gone from the lazy-fetch endpoint and nothing waits.
    await expect(h.qstash.http.request({ path: ['v2', 'workflows', 'runs', workflowRunId] })).rejects.toMatchObject({ status: 404 });
    expect(await h.workflows.getWaiters({ eventId })).toEqual([]);
  });

  it('a failing step ends in the failure function with the error, the run lands in the workflow DLQ, and resume finishes it without repeating steps', async () => {
    failFinalStep = true;
    const { workflowRunId } = await h.workflows.trigger({ url: `${h.appUrl}/wf/demo`, body: { n: 10 }, retries: 0 });
    const eventId = `approval-${workflowRunId}`;
    await waitForWaiter(eventId);
    await h.workflows.notify({ eventId, eventData: 'go' });
    const failure = await waitFor(() => failures.find((f) => f.runId === workflowRunId), { what: 'the failure function', timeoutMs: 20_000 });
    expect(failure.failResponse).toBe('final step exploded');
    expect(failure.failStatus).toBe(500);
    expect(failure.payload).toEqual({ n: 10 });
    const failed = await waitFor(async () => {
      const log = await runLog(workflowRunId);
      return log?.workflowState === 'RUN_FAILED' && log;
    }, { what: 'the run to fail' });
    expect(failed.dlqId).toBeTruthy();
    const { messages } = await h.workflows.dlq.list({ filter: { workflowRunId } });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.workflowRunId).toBe(workflowRunId);

    failFinalStep = false;
    const resumed = await h.workflows.dlq.resume({ dlqId: messages[0]!.dlqId });
    expect(resumed.workflowRunId).toBe(workflowRunId);
    await waitFor(async () => (await runLog(workflowRunId))?.workflowState === 'RUN_SUCCESS', { what: 'the resumed run to succeed', timeoutMs: 20_000 });
    for (const step of ['one', 'two', 'three']) expect(ran(workflowRunId, step), step).toBe(1);
    expect(ran(workflowRunId, 'final')).toBe(2);
    expect((await h.workflows.dlq.list({ filter: { workflowRunId } })).messages).toHaveLength(0);
  });

  it('a plain QStash dlq.retry of a failed step resumes the run too', async () => {
    failFinalStep = true;
    const { workflowRunId } = await h.workflows.trigger({ url: `${h.appUrl}/wf/demo`, body: { n: 20 }, retries: 0 });
    const eventId = `approval-${workflowRunId}`;
    await waitForWaiter(eventId);
    await h.workflows.notify({ eventId, eventData: 'go' });
    const entry = await waitFor(async () => (await h.qstash.dlq.listMessages({ filter: { workflowRunId } as never })).messages[0], { what: 'the DLQ entry', timeoutMs: 20_000 });
    failFinalStep = false;
    await h.qstash.dlq.retry(entry.dlqId);
    await waitFor(async () => (await runLog(workflowRunId))?.workflowState === 'RUN_SUCCESS', { what: 'the retried run to succeed', timeoutMs: 20_000 });
    for (const step of ['one', 'two', 'three']) expect(ran(workflowRunId, step), step).toBe(1);
  });

  it('cancel stops a waiting run: RUN_CANCELED, no waiter left, later steps refused', async () => {
    const { workflowRunId } = await h.workflows.trigger({ url: `${h.appUrl}/wf/demo`, body: { n: 5 }, retries: 0 });
    const eventId = `approval-${workflowRunId}`;
    await waitForWaiter(eventId);
    expect(await h.workflows.cancel({ ids: workflowRunId })).toEqual({ cancelled: 1 });
    expect((await runLog(workflowRunId))?.workflowState).toBe('RUN_CANCELED');
    expect(await h.workflows.getWaiters({ eventId })).toEqual([]);
    expect(await h.workflows.notify({ eventId, eventData: 'late' })).toEqual([]);
    expect(ran(workflowRunId, 'final')).toBe(0);
  });
});
