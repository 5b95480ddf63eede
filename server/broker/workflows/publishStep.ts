import type { Queryable } from '../db/executor.ts';
import { badRequest } from '../errors.ts';
import { insertMessage } from '../messages/insertMessage.ts';
import type { MessageSpec, StoredMessage } from '../messages/messageModel.ts';
import type { HeaderMap } from '../publish/headerMap.ts';
import { parseMessageOptions } from '../publish/parseMessageOptions.ts';
import { validateUrl } from '../publish/validateUrl.ts';
import { bindToRun, recordStep } from './bindToRun.ts';

/**
 * Publishes a step message the broker writes itself (a notified or timed-out waitForEvent), from
 * the publish headers the SDK gave for it, inside the caller's transaction.
 */
export async function publishStep(
  tx: Queryable,
  input: { url: string; headers: HeaderMap; body: Buffer; now: number; notBefore?: number; waiterId?: number; callerIp?: string | undefined },
): Promise<StoredMessage | undefined> {
  const { delayMs, notBeforeMs: _ignored, ...options } = parseMessageOptions(input.headers);
  if (!options.workflow) throw badRequest('missing Upstash-Workflow-RunId header');
  const notBefore = input.notBefore ?? input.now + delayMs;
  const spec: MessageSpec = {
    ...options,
    kind: 'message',
    url: validateUrl(input.url, 'workflow url'),
    body: input.body,
    notBefore,
    callerIp: input.callerIp,
    workflow: { ...options.workflow, callType: 'step', ...(input.waiterId === undefined ? {} : { waiterId: input.waiterId }) },
  };
  const explicit = { retries: input.headers.has('upstash-retries'), retryDelay: input.headers.has('upstash-retry-delay'), timeout: input.headers.has('upstash-timeout') };
  const binding = await bindToRun(tx, spec, explicit, input.now);
  if ('duplicateOf' in binding) return undefined;
  const inserted = await insertMessage(tx, binding.spec, { now: input.now, dueAt: notBefore });
  if (inserted.deduplicated) return undefined;
  await recordStep(tx, inserted.message);
  return inserted.message;
}
