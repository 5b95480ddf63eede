import { randomBytes } from 'node:crypto';
import type { BrokerContext } from '../brokerContext.ts';
import { ok, type BrokerResponse, type Route } from './types.ts';

/** The SDK's dev-mode health check compares these with the official dev keys. */
async function keys(ctx: BrokerContext): Promise<BrokerResponse> {
  return ok({ current: ctx.keys.current, next: ctx.keys.next });
}

/** Rotation as QStash does it: next becomes current, a fresh next is minted. In memory only. */
async function rotate(ctx: BrokerContext): Promise<BrokerResponse> {
  ctx.keys.current = ctx.keys.next;
  ctx.keys.next = `sig_${randomBytes(21).toString('base64url')}`;
  ctx.logger.warn('[broker] Signing keys rotated (until restart)');
  return ok({ current: ctx.keys.current, next: ctx.keys.next });
}

export const keyRoutes: Route[] = [
  { methods: ['GET'], pattern: '/v2/keys', handler: keys },
  { methods: ['POST'], pattern: '/v2/keys/rotate', handler: rotate },
];
