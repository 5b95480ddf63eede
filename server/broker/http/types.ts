import type { BrokerContext } from '../brokerContext.ts';
import type { HeaderMap } from '../publish/headerMap.ts';

export interface BrokerRequest {
  method: string;
  /** The request target exactly as received (path and query, undecoded). */
  rawUrl: string;
  query: URLSearchParams;
  headers: HeaderMap;
  body: Buffer;
  callerIp?: string | undefined;
  /** Decoded `:name` path parameters. */
  params: Record<string, string>;
  /** For `*` routes: the raw remainder of the target after the fixed prefix, query string included. */
  rest: string;
}

export interface BrokerResponse {
  status: number;
  /** Serialised as JSON; absent means an empty body. */
  json?: unknown;
}

export type Handler = (ctx: BrokerContext, req: BrokerRequest) => Promise<BrokerResponse>;

export interface Route {
  methods: readonly string[];
  /** `/v2/messages/:id`, or a prefix ending in `/*` whose remainder is taken raw. */
  pattern: string;
  handler: Handler;
  /** Multiplier on the body limit (batch carries many messages). Default 1. */
  bodyLimitFactor?: number;
}

export const ok = (json?: unknown, status = 200): BrokerResponse => ({ status, json });
