import type { BrokerContext } from '../brokerContext.ts';
import { BrokerError, badRequest } from '../errors.ts';
import { toHeaderMap } from '../publish/headerMap.ts';
import { preparePublish, publishMessage, storePublishes, type PreparedPublish, type PublishResult } from '../publish/publishMessage.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

/** A URL destination answers one object; a URL group answers an array (protocol doc §1.4). */
function publishResponse(results: PublishResult[], isGroup: boolean): BrokerResponse {
  const status = results.every((r) => r.deduplicated) ? 202 : 201;
  return ok(isGroup ? results : results[0], status);
}

async function publish(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { results, isGroup } = await publishMessage(ctx, { destination: req.rest, headers: req.headers, body: req.body, callerIp: req.callerIp });
  return publishResponse(results, isGroup);
}

async function enqueue(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { results, isGroup } = await publishMessage(ctx, {
    destination: req.rest,
    headers: req.headers,
    body: req.body,
    queueName: req.params.queue,
    callerIp: req.callerIp,
  });
  return publishResponse(results, isGroup);
}

interface BatchItem {
  destination?: unknown;
  headers?: unknown;
  body?: unknown;
  queue?: unknown;
}

/**
 * `/v2/batch`: every item is validated first (a bad one answers its own `{error}` entry), then all
 * valid items are stored in one write transaction, as one multi-row statement unless workflow
 * messages need binding to their runs.
 */
async function batch(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  let items: unknown;
  try {
    items = JSON.parse(req.body.toString('utf8'));
  } catch {
    throw badRequest('invalid batch request: body must be a JSON array');
  }
  if (!Array.isArray(items)) throw badRequest('invalid batch request: body must be a JSON array');
  const prepared: (PreparedPublish | { error: string })[] = [];
  for (const raw of items as BatchItem[]) {
    try {
      if (typeof raw !== 'object' || raw === null || typeof raw.destination !== 'string') throw badRequest('invalid batch item: destination is required');
      const headers = typeof raw.headers === 'object' && raw.headers !== null ? (raw.headers as Record<string, string>) : {};
      const body = Buffer.from(typeof raw.body === 'string' ? raw.body : '');
      if (body.length > ctx.maxBodyBytes) throw new BrokerError(413, `message body too large: max ${ctx.maxBodyBytes} bytes`);
      prepared.push(
        await preparePublish(ctx, {
          destination: raw.destination,
          headers: toHeaderMap(headers),
          body,
          queueName: typeof raw.queue === 'string' ? raw.queue : undefined,
          callerIp: req.callerIp,
        }),
      );
    } catch (error) {
      if (!(error instanceof BrokerError)) throw error;
      prepared.push({ error: error.message });
    }
  }
  const valid = prepared.filter((p): p is PreparedPublish => 'items' in p);
  const stored = await storePublishes(ctx, valid);
  let next = 0;
  const responses = prepared.map((p) => {
    if ('error' in p) return p;
    const results = stored[next++] ?? [];
    if (results instanceof BrokerError) return { error: results.message };
    return p.isGroup ? results : results[0];
  });
  return ok(responses, 201);
}

export const publishRoutes: Route[] = [
  { methods: ['POST'], pattern: '/v2/publish/*', handler: publish },
  { methods: ['POST'], pattern: '/v2/enqueue/:queue/*', handler: enqueue },
  { methods: ['POST'], pattern: '/v2/batch', handler: batch, bodyLimitFactor: 10 },
];
