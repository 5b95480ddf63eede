import { badRequest } from '../errors.ts';
import { parseRetryDelay, RetryDelaySyntaxError } from '../delivery/retryDelayExpression.ts';
import type { CallbackSettings, MessageSpec } from '../messages/messageModel.ts';
import { canonicalName, headersWithPrefix, type HeaderMap } from './headerMap.ts';
import { parseDuration } from './parseDuration.ts';
import { parseFlowControl } from './parseFlowControl.ts';
import { validateUrl } from './validateUrl.ts';
import { parseRedactFields } from '../redact/redaction.ts';
import { parseWorkflowHeaders } from '../workflows/workflowInfo.ts';

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
const DEFAULT_RETRIES = 3;
const MAX_RETRIES = 100;

/** The message options a publish, enqueue, batch item or schedule carries, minus its destination. */
export type MessageOptions = Omit<MessageSpec, 'kind' | 'url' | 'body' | 'topicName' | 'endpointName' | 'scheduleId' | 'notBefore'> & {
  /** Delay in ms from `Upstash-Delay`, or the absolute `Upstash-Not-Before` (ms) which wins over it. */
  delayMs: number;
  notBeforeMs?: number;
};

export function parseMessageOptions(headers: HeaderMap): MessageOptions {
  const method = (headers.get('upstash-method') ?? 'POST').toUpperCase();
  if (!METHODS.includes(method)) throw badRequest(`invalid Upstash-Method: ${method}`);
  const header = headersWithPrefix(headers, 'upstash-forward-');
  const contentType = headers.get('content-type');
  if (contentType !== undefined) header[canonicalName('content-type')] = [contentType];
  const callback = optionalUrl(headers.get('upstash-callback'), 'callback url');
  const failureCallback = optionalUrl(headers.get('upstash-failure-callback'), 'failure callback url');
  return {
    method,
    header,
    queueName: undefined,
    maxRetries: parseRetries(headers.get('upstash-retries'), 'Upstash-Retries') ?? DEFAULT_RETRIES,
    retryDelay: parseRetryDelayHeader(headers.get('upstash-retry-delay'), 'Upstash-Retry-Delay'),
    callback,
    failureCallback,
    callbackOptions: {
      ...(callback ? { callback: parseCallbackSettings(headers, 'upstash-callback-') } : {}),
      ...(failureCallback ? { failureCallback: parseCallbackSettings(headers, 'upstash-failure-callback-') } : {}),
    },
    timeoutMs: parseDurationHeader(headers.get('upstash-timeout'), 'Upstash-Timeout'),
    delayMs: parseDurationHeader(headers.get('upstash-delay'), 'Upstash-Delay') ?? 0,
    notBeforeMs: parseNotBefore(headers.get('upstash-not-before')),
    flow: parseFlowControl(headers.get('upstash-flow-control-key'), headers.get('upstash-flow-control-value')),
    labels: parseLabels(headers.get('upstash-label')),
    redact: parseRedactFields(headers.get('upstash-redact-fields')),
    workflow: parseWorkflowHeaders(headers, 'upstash-', 'step'),
  };
}

function parseCallbackSettings(headers: HeaderMap, prefix: string): CallbackSettings {
  const method = headers.get(`${prefix}method`)?.toUpperCase();
  if (method !== undefined && !METHODS.includes(method)) throw badRequest(`invalid ${prefix}method: ${method}`);
  const settings: CallbackSettings = {
    retries: parseRetries(headers.get(`${prefix}retries`), `${prefix}retries`),
    timeoutMs: parseDurationHeader(headers.get(`${prefix}timeout`), `${prefix}timeout`),
    delayMs: parseDurationHeader(headers.get(`${prefix}delay`), `${prefix}delay`),
    method,
    retryDelay: parseRetryDelayHeader(headers.get(`${prefix}retry-delay`), `${prefix}retry-delay`),
    header: headersWithPrefix(headers, `${prefix}forward-`),
    workflow: parseWorkflowHeaders(headers, prefix, prefix === 'upstash-callback-' ? 'fromCallback' : 'failureCall'),
  };
  return JSON.parse(JSON.stringify(settings)) as CallbackSettings; // drops undefined keys before jsonb
}

function optionalUrl(value: string | undefined, what: string): string | undefined {
  return value ? validateUrl(value, what) : undefined;
}

function parseRetries(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > MAX_RETRIES) throw badRequest(`invalid ${what} header: must be an integer between 0 and ${MAX_RETRIES}`);
  return n;
}

function parseDurationHeader(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw badRequest(`invalid ${what} header: ${value}, use a duration such as 10s, 5m, 1h or 1d10h30m`);
  return ms;
}

function parseRetryDelayHeader(value: string | undefined, what: string): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  try {
    parseRetryDelay(value);
  } catch (error) {
    if (error instanceof RetryDelaySyntaxError) throw badRequest(`invalid ${what} expression: ${error.message}`);
    throw error;
  }
  return value;
}

function parseNotBefore(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw badRequest('invalid Upstash-Not-Before header: must be a unix timestamp in seconds');
  return Number(value) * 1000;
}

function parseLabels(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
