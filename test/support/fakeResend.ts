/**
 * A local stand-in for Resend's HTTP API, enough of `POST /emails` for the official SDK: bearer
 * key, required fields, `Idempotency-Key`, Resend's error shape, and injected failures.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An email the fake accepted, with the request body as Resend received it (snake_case). */
export interface FakeResendEmail {
  id: string;
  idempotencyKey: string | undefined;
  body: {
    from: string;
    to: string | string[];
    subject: string;
    html?: string;
    text?: string;
    reply_to?: string | string[];
    tags?: { name: string; value: string }[];
    [field: string]: unknown;
  };
}

/** Every request the fake saw, failures included. */
export interface FakeResendRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
}

export interface FakeResend {
  /** Base URL to pass as the SDK's `baseUrl`. */
  url: string;
  apiKey: string;
  emails: FakeResendEmail[];
  requests: FakeResendRequest[];
  /** The next `count` requests fail with `status` and Resend's error JSON. */
  failNext(count: number, status: number, message?: string): void;
  stop(): Promise<void>;
}

const ERROR_NAMES: Record<number, string> = {
  400: 'invalid_parameter',
  401: 'missing_api_key',
  403: 'invalid_api_key',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'invalid_idempotent_request',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'application_error',
  503: 'application_error',
};

// Bare `a@b.c` or `Name <a@b.c>`, as Resend accepts.
const ADDRESS = /^(?:[^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/;

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeResend(options: { apiKey?: string } = {}): Promise<FakeResend> {
  const apiKey = options.apiKey ?? 're_test_fake_key';
  const emails: FakeResendEmail[] = [];
  const requests: FakeResendRequest[] = [];
  const idempotent = new Map<string, { id: string; hash: string }>();
  let failures: { remaining: number; status: number; message: string } | undefined;

  async function handle(req: IncomingMessage): Promise<[number, unknown]> {
    const fail = (status: number, message: string): [number, unknown] => [status, { statusCode: status, name: ERROR_NAMES[status] ?? 'application_error', message }];
    const raw = await readBody(req);
    if (failures && failures.remaining > 0) {
      failures.remaining -= 1;
      return fail(failures.status, failures.message);
    }
    const auth = req.headers.authorization;
    if (!auth) return fail(401, 'Missing API key in the authorization header.');
    if (auth !== `Bearer ${apiKey}`) return fail(403, 'API key is invalid');
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path !== '/emails') return fail(404, 'The requested endpoint does not exist.');
    if (req.method !== 'POST') return fail(405, 'Method not allowed');

    let body: FakeResendEmail['body'];
    try {
      body = JSON.parse(raw) as FakeResendEmail['body']; // checked field by field below
    } catch {
      return fail(400, 'Invalid JSON body');
    }
    for (const field of ['from', 'to', 'subject'] as const) {
      if (!body[field]) return [422, { statusCode: 422, name: 'missing_required_field', message: `Missing \`${field}\` field.` }];
    }
    const recipients = Array.isArray(body.to) ? body.to : [body.to];
    if (!recipients.every((to) => ADDRESS.test(to))) return fail(422, 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
    if (!ADDRESS.test(body.from)) return fail(422, 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');

    const key = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(key) ? key[0] : key;
    const hash = createHash('sha256').update(raw).digest('hex');
    if (idempotencyKey) {
      const seen = idempotent.get(idempotencyKey);
      if (seen && seen.hash !== hash) return fail(409, 'Same idempotency key used with a different request payload.');
      if (seen) return [200, { id: seen.id }];
    }
    const id = randomUUID();
    if (idempotencyKey) idempotent.set(idempotencyKey, { id, hash });
    emails.push({ id, idempotencyKey, body });
    return [200, { id }];
  }

  const server = createServer((req, res) => {
    handle(req).then(
      ([status, body]) => {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, status });
        sendJson(res, status, body);
      },
      (error: unknown) => sendJson(res, 500, { statusCode: 500, name: 'application_error', message: String(error) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo; // listening on TCP, so an AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    emails,
    requests,
    failNext(count, status, message = status >= 500 ? 'Internal server error.' : 'Request failed.') {
      failures = { remaining: count, status, message };
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
