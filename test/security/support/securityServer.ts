/**
 * `startTestServer` for the security suites: logs captured at debug level (scanned when it
 * stops), every issued token remembered as a secret, and raw HTTP access to tRPC.
 */
import superjson from 'superjson';
import type { ServerConfig } from '../../../server/startServer.ts';
import { startTestServer, type TestServer } from '../../support/testServer.ts';
import { captureLogs, expectNoSecrets, rememberSecret, type CapturedLogs } from './capturedLogs.ts';

export type Caller = { userId?: string; organizationId?: number; role?: 'member' | 'admin' };

export interface SecurityServer extends TestServer {
  logs: CapturedLogs;
  /** Stops the server, then scans everything it logged for secrets. */
  stopAndScan(): Promise<void>;
}

export const SECURITY_STRIPE_SECRET = 'whsec_security_suite_0123456789';
export const SECURITY_GITHUB_SECRET = 'github-security-suite-secret';

export async function startSecurityServer(overrides: Partial<ServerConfig> = {}): Promise<SecurityServer> {
  const logs = captureLogs('debug');
  // Webhook ingress configured, so its routes are part of the attack surface under test.
  const t = await startTestServer({
    log: logs.log,
    stripe: { webhookSecret: rememberSecret(SECURITY_STRIPE_SECRET) },
    webhookSources: [{ name: 'github', verify: 'github', secret: rememberSecret(SECURITY_GITHUB_SECRET) }],
    ...overrides,
  });
  const token = async (caller?: Caller) => rememberSecret(await t.token(caller));
  return {
    ...t,
    logs,
    token,
    client: async (caller?: Caller) => {
      await token(caller); // the client signs the same token: remember it
      return t.client(caller);
    },
    async stopAndScan() {
      await t.stop();
      expectNoSecrets(logs.lines);
    },
  };
}

/** tRPC's error shape on the wire (after superjson). */
export interface WireError {
  message: string;
  code: number;
  data: { code: string; httpStatus: number; jobwireCode: string | null; zodError: { formErrors: string[]; fieldErrors: Record<string, string[]> } | null; path?: string; stack?: string };
}

export interface RawResult {
  status: number;
  headers: Headers;
  text: string;
  error: WireError | null;
  data: unknown;
}

export type ProcedureType = 'query' | 'mutation' | 'subscription';

/**
 * Calls one procedure over plain HTTP as the tRPC client would (superjson), without batching.
 * Subscriptions read the SSE stream up to its first data or error event.
 */
export async function callProcedure(trpcUrl: string, call: { path: string; type: ProcedureType; input: unknown; token?: string | undefined }): Promise<RawResult> {
  const input = encodeURIComponent(JSON.stringify(superjson.serialize(call.input)));
  if (call.type === 'subscription') return subscribeOnce(`${trpcUrl}/${call.path}?input=${input}`, call.token);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(call.token === undefined ? {} : { authorization: `Bearer ${call.token}` }) };
  const response =
    call.type === 'query'
      ? await fetch(`${trpcUrl}/${call.path}?input=${input}`, { headers })
      : await fetch(`${trpcUrl}/${call.path}`, { method: 'POST', headers, body: JSON.stringify(superjson.serialize(call.input)) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, ...parseEnvelope(text) };
}

function parseEnvelope(text: string): { error: WireError | null; data: unknown } {
  try {
    const body = JSON.parse(text) as { error?: { json: WireError }; result?: { data: { json: unknown } } };
    if (body.error) return { error: body.error.json, data: undefined };
    return { error: null, data: body.result?.data.json };
  } catch {
    return { error: null, data: undefined };
  }
}

// EventSource cannot send headers: the token travels as tRPC connectionParams in the URL.
async function subscribeOnce(url: string, token: string | undefined): Promise<RawResult> {
  const params = token === undefined ? '' : `&connectionParams=${encodeURIComponent(JSON.stringify({ token }))}`;
  const abort = new AbortController();
  const response = await fetch(`${url}${params}`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  let text = '';
  const reader = response.body!.getReader(); // fetch responses always have a body stream here
  const decoder = new TextDecoder();
  const deadline = setTimeout(() => abort.abort(), 5_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const error = /event: serialized-error\ndata: (.*)\n/.exec(text);
      if (error?.[1]) return { status: response.status, headers: response.headers, text, error: superjson.deserialize(JSON.parse(error[1])) as WireError, data: undefined };
      const data = /(?:^|\n)(?:id: .*\n)?data: (.*)\n/.exec(text.replace(/event: connected\ndata: .*\n/, ''));
      if (data?.[1]) return { status: response.status, headers: response.headers, text, error: null, data: JSON.parse(data[1]) as unknown };
    }
  } catch {
    // aborted: no event within the deadline
  } finally {
    clearTimeout(deadline);
    abort.abort();
  }
  return { status: response.status, headers: response.headers, text, ...parseEnvelope(text) };
}
