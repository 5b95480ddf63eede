import { badRequest } from '../errors.ts';
import type { HeaderMap } from '../publish/headerMap.ts';

/**
 * Glossary (Upstash Workflow as the broker sees it)
 * - run: one execution of a workflow, keyed by the SDK's `wfr_…` run id, with its initial body.
 * - step entry: one message published for a run, in publish order; a step delivery carries the run's
 *   entries up to its own (`[{messageId, body (base64), callType}]`), which is how the SDK replays.
 * - call type: `step` (to the workflow URL), `toCallback` (a `context.call` request to a third
 *   party), `fromCallback` (its result, back to the workflow), `failureCall` (the failure callback).
 * - waiter: a `context.waitForEvent` parked on an event id until `notify` or its deadline.
 */
export type CallType = 'step' | 'toCallback' | 'fromCallback' | 'failureCall';
const CALL_TYPES: readonly string[] = ['step', 'toCallback', 'fromCallback', 'failureCall'];

export interface WorkflowInfo {
  runId: string;
  /** The workflow endpoint (`Upstash-Workflow-Url`). */
  url: string;
  callType: CallType;
  /** `Upstash-Workflow-Init: true`: this publish starts the run. */
  init?: boolean;
  /** A waitForEvent timeout: its step entry is written when the waiter is claimed, not at publish. */
  waiterId?: number;
}

/** Reads `{prefix}workflow-runid`, `-url`, `-init`, `-calltype` (lower case); undefined when no run id. */
export function parseWorkflowHeaders(headers: HeaderMap, prefix: string, fallback: CallType): WorkflowInfo | undefined {
  const runId = headers.get(`${prefix}workflow-runid`);
  if (!runId) return undefined;
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(runId)) throw badRequest(`invalid ${prefix}workflow-runid`);
  const url = headers.get(`${prefix}workflow-url`);
  if (!url || !/^https?:\/\//i.test(url)) throw badRequest(`invalid ${prefix}workflow-url: an http(s) URL is required with a workflow run id`);
  const callType = headers.get(`${prefix}workflow-calltype`) ?? fallback;
  if (!CALL_TYPES.includes(callType)) throw badRequest(`invalid ${prefix}workflow-calltype: ${callType}`);
  const init = headers.get(`${prefix}workflow-init`)?.toLowerCase() === 'true';
  return { runId, url, callType: callType as CallType, ...(init ? { init } : {}) };
}

/** Step entries are recorded for these; `failureCall` happens after the run ended. */
export const RECORDED_CALL_TYPES: readonly CallType[] = ['step', 'toCallback', 'fromCallback'];
/** A final failure of one of these fails the run. */
export const RUN_FAILING_CALL_TYPES: readonly CallType[] = ['step', 'fromCallback'];
