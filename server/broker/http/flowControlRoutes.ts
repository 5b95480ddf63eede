import type { BrokerContext } from '../brokerContext.ts';
import type { FlowState } from '../dispatch/flowLimiter.ts';
import { badRequest, notFound } from '../errors.ts';
import { parseDuration } from '../publish/parseDuration.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

function flowJson(state: FlowState) {
  return {
    flowControlKey: state.key,
    waitListSize: state.waiting.length,
    parallelismMax: state.parallelism ?? 0,
    parallelismCount: state.active,
    rateMax: state.rate ?? 0,
    rateCount: state.windowCount,
    ratePeriod: Math.round(state.periodMs / 1000),
    ratePeriodStart: state.windowStart,
    isPaused: state.paused,
    isPinnedParallelism: state.pinned.parallelism !== undefined,
    isPinnedRate: state.pinned.rate !== undefined,
  };
}

function known(ctx: BrokerContext, req: BrokerRequest): FlowState {
  const state = ctx.dispatcher.flows.states.get(req.params.key as string);
  if (!state) throw notFound('flow control key not found');
  return state;
}

const get = async (ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> => ok(flowJson(known(ctx, req)));
const list = async (ctx: BrokerContext): Promise<BrokerResponse> => ok([...ctx.dispatcher.flows.states.values()].map(flowJson));
const globalParallelism = async (ctx: BrokerContext): Promise<BrokerResponse> => ok({ parallelismMax: 0, parallelismCount: ctx.dispatcher.activeCount });

/** A positive integer query parameter, undefined when absent; anything else is a 400. */
function positiveInt(q: URLSearchParams, name: string): number | undefined {
  const text = q.get(name);
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`invalid ${name}: must be a positive integer`);
  return n;
}

function period(q: URLSearchParams): number | undefined {
  const text = q.get('period');
  if (text === null || text === '') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw badRequest('invalid period: must be a positive duration');
  return ms;
}

/** Pause, resume, pin, unpin and resetRate act on live state only; a restart forgets them. */
async function act(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const { key } = known(ctx, req);
  const flows = ctx.dispatcher.flows;
  const q = req.query;
  switch (req.params.action ?? '') {
    case 'pause':
      flows.setPaused(key, true);
      break;
    case 'resume':
      flows.setPaused(key, false);
      break;
    case 'resetRate':
      flows.resetRate(key);
      break;
    case 'pin':
      flows.pin(key, { parallelism: positiveInt(q, 'parallelism'), rate: positiveInt(q, 'rate'), periodMs: period(q) });
      break;
    case 'unpin':
      flows.unpin(key, { parallelism: q.get('parallelism') === 'true', rate: q.get('rate') === 'true' });
      break;
    default:
      throw notFound('unknown flow control action');
  }
  ctx.dispatcher.drainFlow(key);
  return ok();
}

export const flowControlRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/globalParallelism', handler: globalParallelism },
  { methods: ['GET'], pattern: '/v2/flowControl', handler: list },
  { methods: ['GET'], pattern: '/v2/flowControl/:key', handler: get },
  { methods: ['POST'], pattern: '/v2/flowControl/:key/:action', handler: act },
];
