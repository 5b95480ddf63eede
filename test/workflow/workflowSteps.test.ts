import { serve } from '@upstash/workflow/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QSTASH_DEV_TOKEN } from '../../server/env.ts';
import { waitFor } from '../broker/support/waitFor.ts';
import { startWorkflowHarness, type WorkflowHarness } from './support/workflowHarness.ts';

// Parallel steps, sleepUntil, a waitForEvent that times out, and the lazy-fetch endpoint.
let h: WorkflowHarness;
const executions: string[] = [];
const results = new Map<string, unknown>();

beforeAll(async () => {
  h = await startWorkflowHarness();
  h.app.use(
    '/wf/parallel',
    serve<{ tag: string }>(
      async (context) => {
        const [left, right] = await Promise.all([
          context.run('left', () => {
            executions.push(`${context.workflowRunId}:left`);
            return `${context.requestPayload.tag}-L`;
          }),
          context.run('right', () => {
            executions.push(`${context.workflowRunId}:right`);
            return `${context.requestPayload.tag}-R`;
          }),
        ]);
        await context.sleepUntil('until', Math.floor(Date.now() / 1000) + 1);
        const waited = await context.waitForEvent('nobody-comes', `never-${context.workflowRunId}`, { timeout: 1 });
        await context.run('record', () => {
          executions.push(`${context.workflowRunId}:record`);
          results.set(context.workflowRunId, { left, right, waited });
        });
      },
      { qstashClient: h.qstash, receiver: h.receiver, env: {} },
    ),
  );
});
afterAll(async () => {
  await h?.close();
});

describe('workflow step kinds', () => {
  it('runs parallel steps once each, sleeps until a time, and resumes a timed-out waitForEvent with timeout: true', async () => {
    const { workflowRunId } = await h.workflows.trigger({ url: `${h.appUrl}/wf/parallel`, body: { tag: 'p' } });
    const result = await waitFor(() => results.get(workflowRunId), { what: 'the run to record its result', timeoutMs: 20_000 });
    expect(result).toEqual({ left: 'p-L', right: 'p-R', waited: { timeout: true } });
    expect(executions.filter((e) => e.startsWith(workflowRunId)).sort()).toEqual([`${workflowRunId}:left`, `${workflowRunId}:record`, `${workflowRunId}:right`]);
    const log = await waitFor(async () => {
      const { runs } = await h.workflows.logs({ workflowRunId });
      return runs[0]?.workflowState === 'RUN_SUCCESS' && runs[0];
    });
    expect(log.steps.some((g) => g.type === 'parallel' && g.steps.length === 2)).toBe(true);
  });

  it('serves a live run\'s step entries for the SDK\'s LazyFetch, and refuses steps for unknown runs', async () => {
    const { workflowRunId } = await h.workflows.trigger({ url: `${h.appUrl}/wf/parallel`, body: { tag: 'lazy' }, delay: 60 });
    const entries = await h.qstash.http.request<{ messageId: string; body: string; callType: string }[]>({ path: ['v2', 'workflows', 'runs', workflowRunId] });
    expect(entries).toHaveLength(1);
    expect(JSON.parse(Buffer.from(entries[0]!.body, 'base64').toString())).toEqual({ tag: 'lazy' });
    expect(entries[0]?.callType).toBe('step');
    const stray = await fetch(`${h.broker.url}/v2/publish/${h.appUrl}/wf/parallel`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${QSTASH_DEV_TOKEN}`, 'Upstash-Workflow-RunId': 'wfr_unknown', 'Upstash-Workflow-Url': `${h.appUrl}/wf/parallel`, 'Upstash-Workflow-Init': 'false' },
      body: '{}',
    });
    expect(stray.status).toBe(400);
    expect(await h.workflows.cancel({ ids: [workflowRunId] })).toEqual({ cancelled: 1 });
  });

  it('answers bad workflow requests with a 4xx and changes nothing', async () => {
    const call = async (method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) => {
      const res = await fetch(`${h.broker.url}${path}`, { method, headers: { Authorization: `Bearer ${QSTASH_DEV_TOKEN}`, ...init.headers }, body: init.body });
      return { status: res.status, text: await res.text() };
    };
    const wf = { 'Upstash-Workflow-RunId': 'wfr_bad', 'Upstash-Workflow-Url': `${h.appUrl}/wf/parallel` };
    expect((await call('POST', '/v2/wait/e1', { headers: wf, body: 'not json' })).status).toBe(400);
    expect((await call('POST', '/v2/wait/e1', { body: JSON.stringify({ url: 'http://x', timeout: '1h', step: {} }) })).status).toBe(400);
    expect((await call('POST', '/v2/wait/e1', { headers: wf, body: JSON.stringify({ url: 'http://x', timeout: 'soon', step: {} }) })).status).toBe(400);
    expect((await call('POST', '/v2/wait/e1', { headers: wf, body: JSON.stringify({ url: 'http://x', timeout: '1h', step: {} }) })).text).toContain('not active');
    expect(await call('POST', '/v2/notify/nobody-waits', { body: 'x' })).toEqual({ status: 200, text: '[]' });
    expect((await call('GET', '/v2/waiters/e1')).text).toBe('[]');
    expect((await call('DELETE', '/v2/workflows/runs/wfr_unknown?cancel=true')).status).toBe(404);
    expect((await call('DELETE', '/v2/workflows/runs/wfr_unknown?cancel=maybe')).status).toBe(400);
    expect((await call('DELETE', '/v2/workflows/runs')).status).toBe(400);
    expect((await call('DELETE', '/v2/workflows/runs?workflowUrll=x')).text).toContain('unknown filter: workflowUrll');
    expect((await call('GET', '/v2/workflows/events?groupBy=url')).status).toBe(400);
    expect((await call('GET', '/v2/workflows/events?stat=RUN_FAILED')).status).toBe(400);
    expect((await call('POST', '/v2/workflows/dlq/resume')).status).toBe(400);
    expect((await call('DELETE', '/v2/workflows/dlq?labeel=x')).status).toBe(400);
    expect((await call('POST', '/v2/workflows/dlq/callback/nope')).status).toBe(404);
    const publish = (headers: Record<string, string>) => call('POST', `/v2/publish/${h.appUrl}/wf/parallel`, { headers, body: '{}' });
    expect((await publish({ 'Upstash-Workflow-RunId': 'wfr_x' })).status).toBe(400);
    expect((await publish({ ...wf, 'Upstash-Workflow-CallType': 'sideways' })).status).toBe(400);
    expect((await call('GET', '/v2/workflows/runs/wfr_unknown')).status).toBe(404);
  });
});
