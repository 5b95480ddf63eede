import { badRequest } from '../errors.ts';
import type { FlowControl } from '../messages/messageModel.ts';
import { parseDuration } from './parseDuration.ts';

const MAX_PERIOD_S = 7 * 86_400;

/** Parses `Upstash-Flow-Control-Key` + `-Value` (`parallelism=2, rate=5, period=60s`). */
export function parseFlowControl(key: string | undefined, value: string | undefined): FlowControl | undefined {
  if (!key) {
    if (value) throw badRequest('Upstash-Flow-Control-Value requires Upstash-Flow-Control-Key');
    return undefined;
  }
  if (!/^[A-Za-z0-9._\-:/@]{1,200}$/.test(key)) throw badRequest('invalid Upstash-Flow-Control-Key');
  const flow: FlowControl = { key };
  for (const part of (value ?? '').split(',')) {
    const [rawName, rawValue] = part.split('=').map((s) => s.trim());
    if (!rawName) continue;
    if (rawValue === undefined) throw badRequest(`invalid Upstash-Flow-Control-Value part: ${part.trim()}`);
    const name = rawName.toLowerCase();
    if (name === 'parallelism' || name === 'rate') {
      const n = Number(rawValue);
      if (!Number.isInteger(n) || n < 1) throw badRequest(`invalid Upstash-Flow-Control-Value: ${name} must be a positive integer`);
      flow[name] = n;
    } else if (name === 'period') {
      const ms = parseDuration(rawValue);
      if (ms === undefined || ms < 1000 || ms > MAX_PERIOD_S * 1000) throw badRequest('invalid Upstash-Flow-Control-Value: period must be between 1s and 7d');
      flow.period = Math.round(ms / 1000);
    } else {
      throw badRequest(`invalid Upstash-Flow-Control-Value: unknown part ${rawName}`);
    }
  }
  if (flow.parallelism === undefined && flow.rate === undefined) {
    throw badRequest('invalid Upstash-Flow-Control-Value: provide parallelism or rate');
  }
  return flow;
}
