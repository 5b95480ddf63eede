import { dispatchCreated, type BrokerContext } from '../brokerContext.ts';
import { BrokerError, badRequest } from '../errors.ts';
import { cancelMessages } from '../messages/messageQueries.ts';
import type { StoredMessage } from '../messages/messageModel.ts';
import { toHeaderMap, type HeaderMap } from '../publish/headerMap.ts';
import { parseDuration } from '../publish/parseDuration.ts';
import { publishStep } from '../workflows/publishStep.ts';
import { getRun } from '../workflows/runStore.ts';
import { claimWaiters, insertWaiter, listWaiters, replaceWaiter, setTimeoutMessage, waiterJson, type WaitRequest } from '../workflows/waiterStore.ts';
import { parseJsonObject } from './parseJsonBody.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

const MAX_WAIT_MS = 365 * 86_400_000;

function eventIdOf(req: BrokerRequest): string {
  const eventId = req.params.eventId as string;
  if (eventId === '' || eventId.length > 500) throw badRequest('invalid event id');
  return eventId;
}

/** The publish headers the SDK sent with the wait (Upstash-*, Content-Type); a notify publishes with them. */
function publishHeaders(headers: HeaderMap): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => name.startsWith('upstash-') || name === 'content-type'));
}

function parseWaitRequest(body: Buffer): WaitRequest {
  const raw = parseJsonObject(body);
  if (typeof raw.url !== 'string') throw badRequest('invalid wait request: url is required');
  if (typeof raw.timeout !== 'string') throw badRequest('invalid wait request: timeout is required');
  if (typeof raw.step !== 'object' || raw.step === null) throw badRequest('invalid wait request: step is required');
  const timeoutHeaders = typeof raw.timeoutHeaders === 'object' && raw.timeoutHeaders !== null ? (raw.timeoutHeaders as WaitRequest['timeoutHeaders']) : undefined;
  return {
    url: raw.url,
    timeout: raw.timeout,
    ...(typeof raw.timeoutUrl === 'string' ? { timeoutUrl: raw.timeoutUrl } : {}),
    ...(typeof raw.timeoutBody === 'string' ? { timeoutBody: raw.timeoutBody } : {}),
    ...(timeoutHeaders ? { timeoutHeaders } : {}),
    step: raw.step as Record<string, unknown>,
  };
}

/**
 * `POST /v2/wait/{eventId}` (context.waitForEvent): parks the run on the event and schedules the
 * timeout step for the deadline, durably, in one transaction.
 */
async function wait(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const eventId = eventIdOf(req);
  const request = parseWaitRequest(req.body);
  const runId = req.headers.get('upstash-workflow-runid');
  if (!runId) throw badRequest('missing Upstash-Workflow-RunId header');
  const timeoutMs = parseDuration(request.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_WAIT_MS) throw badRequest(`invalid timeout: ${request.timeout}`);
  const now = ctx.now();
  const deadline = now + timeoutMs;
  const timeoutHeaders = toHeaderMap(Object.fromEntries(Object.entries(request.timeoutHeaders ?? {}).map(([k, v]) => [k, v.join(', ')])));
  const replaced: string[] = [];
  const created = await ctx.db.transaction(async (tx) => {
    const run = await getRun(tx, runId);
    if (!run || run.state !== 'RUN_STARTED') throw badRequest(`workflow run ${runId} is not active`);
    for (const id of await replaceWaiter(tx, { runId, eventId, step: request.step })) {
      replaced.push(...(await cancelMessages(tx, { where: 'id = $1', params: [id] }, now)));
    }
    const waiterId = await insertWaiter(tx, { eventId, runId, url: request.url, deadline, headers: publishHeaders(req.headers), request, createdAt: now });
    const body = Buffer.from(JSON.stringify({ ...request.step, waitEventId: eventId, timeout: request.timeout, waitTimeout: true }));
    const headers = timeoutHeaders.size > 0 ? timeoutHeaders : req.headers;
    const message = await publishStep(tx, { url: request.timeoutUrl ?? request.url, headers, body, now, notBefore: deadline, waiterId, callerIp: req.callerIp });
    if (message) await setTimeoutMessage(tx, waiterId, message.id);
    return message;
  });
  for (const id of replaced) ctx.dispatcher.remove(id);
  if (created) dispatchCreated(ctx, [created]);
  return ok({});
}

/** `POST /v2/notify/{eventId}` and `/v2/notify/{runId}/{eventId}`: wakes the waiters with the body as event data. */
async function notify(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const eventId = eventIdOf(req);
  const runId = req.params.runId;
  const now = ctx.now();
  const cancelled: string[] = [];
  const { responses, created } = await ctx.db.transaction(async (tx) => {
    const responses: unknown[] = [];
    const created: StoredMessage[] = [];
    for (const waiter of await claimWaiters(tx, eventId, runId)) {
      if (waiter.timeoutMessageId) cancelled.push(...(await cancelMessages(tx, { where: 'id = $1', params: [waiter.timeoutMessageId] }, now)));
      const body = Buffer.from(JSON.stringify({ ...waiter.request.step, waitEventId: eventId, timeout: waiter.request.timeout, out: req.body.toString('base64'), waitTimeout: false }));
      const message = await publishStep(tx, { url: waiter.url, headers: new Map(Object.entries(waiter.headers)), body, now, callerIp: req.callerIp }).catch((error: unknown) => {
        if (error instanceof BrokerError) return undefined; // the run ended meanwhile
        throw error;
      });
      if (message) created.push(message);
      responses.push({ waiter: waiterJson(waiter), messageId: message?.id ?? '', ...(message ? {} : { error: 'workflow run is not active' }) });
    }
    return { responses, created };
  });
  for (const id of cancelled) ctx.dispatcher.remove(id);
  dispatchCreated(ctx, created);
  return ok(responses);
}

async function waiters(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  return ok((await listWaiters(ctx.db, eventIdOf(req))).map(waiterJson));
}

export const waitRoutes: Route[] = [
  { methods: ['POST'], pattern: '/v2/wait/:eventId', handler: wait },
  { methods: ['POST'], pattern: '/v2/notify/:runId/:eventId', handler: notify },
  { methods: ['POST'], pattern: '/v2/notify/:eventId', handler: notify },
  { methods: ['GET'], pattern: '/v2/waiters/:eventId', handler: waiters },
];
