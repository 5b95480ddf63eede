import { Client, QstashError } from '@upstash/qstash';
import { jobTypeConfig } from '../../shared/catalogue.ts';
import type { JobPublisher, PublishRequest, ScheduleRequest } from '../jobs/deps.ts';
import { JobValidationError } from '../jobs/errors.ts';
import { readDeliveryLog } from './readDeliveryLog.ts';

export interface QStashConfig {
  /** QStash cloud, or the embedded broker's URL. */
  baseUrl?: string | undefined;
  token: string;
}

/** Seconds the broker waits for a worker response beyond the handler's own time limit. */
const RESPONSE_GRACE_S = 10;

export function workerUrl(publicUrl: string, endpoint: string): string {
  return `${publicUrl}${endpoint}`;
}

export function createQStashClient(config: QStashConfig): Client {
  // Telemetry off: the embedded broker doesn't want it and cloud users didn't ask for it.
  // Few, quick retries: a publish that fails is not lost (the outbox sweeper publishes it later),
  // so enqueue should not hang for the SDK's default ~12 s of backoff while the broker is down.
  // devMode false: with QSTASH_DEV set, the SDK would otherwise ignore baseUrl and token and
  // try to download and start the official dev server.
  return new Client({
    baseUrl: config.baseUrl,
    token: config.token,
    devMode: false,
    enableTelemetry: false,
    retry: { retries: 2, backoff: (retryCount) => 50 * 2 ** retryCount },
  });
}

/** A 400/413/422 from the broker refuses the message itself: a JobValidationError, so the job fails instead of being republished forever. */
function refusedAsInvalid(error: unknown): never {
  if (error instanceof QstashError && (error.status === 400 || error.status === 413 || error.status === 422)) {
    throw new JobValidationError(`The broker refused the message: ${error.message}`);
  }
  throw error;
}

/** The SDK's request for one message (`publishJSON`, or an item of `batchJSON`). */
function messageOf(publicUrl: string, request: PublishRequest) {
  return {
    url: workerUrl(publicUrl, jobTypeConfig(request.type).endpoint),
    body: request.body,
    deduplicationId: request.deduplicationId,
    retries: request.retries,
    timeout: Math.ceil(request.timeoutMs / 1000) + RESPONSE_GRACE_S,
    ...(request.notBefore ? { notBefore: Math.ceil(request.notBefore.getTime() / 1000) } : {}),
    ...(request.options.callback ? { callback: request.options.callback } : {}),
    ...(request.options.failureCallback ? { failureCallback: request.options.failureCallback } : {}),
    ...(request.options.headers ? { headers: request.options.headers } : {}),
  };
}

/** The SDK's request for a schedule (`schedules.create`). */
function scheduleOf(publicUrl: string, request: ScheduleRequest) {
  return {
    scheduleId: request.scheduleId,
    destination: workerUrl(publicUrl, jobTypeConfig(request.type).endpoint),
    cron: request.timezone ? `CRON_TZ=${request.timezone} ${request.cron}` : request.cron,
    body: JSON.stringify(request.body),
    headers: { 'Content-Type': 'application/json' },
    retries: request.retries,
    timeout: Math.ceil(request.timeoutMs / 1000) + RESPONSE_GRACE_S,
  };
}

/** The jobs domain's broker, through the official SDK (QStash cloud or the embedded broker alike). */
export function createQStashPublisher(client: Client, publicUrl: string): JobPublisher {
  return {
    async publish(request) {
      const response = await client.publishJSON(messageOf(publicUrl, request)).catch(refusedAsInvalid);
      return { messageId: response.messageId };
    },
    async publishBatch(requests) {
      const responses: unknown[] = await client.batchJSON(requests.map((request) => messageOf(publicUrl, request))).catch(refusedAsInvalid);
      if (responses.length !== requests.length) throw new Error(`The broker answered ${responses.length} results for a batch of ${requests.length}`);
      // Each item is `{ messageId, … }`, or `{ error }` for a message the broker did not take.
      return responses.map((response) => {
        const { messageId, error } = (response ?? {}) as { messageId?: unknown; error?: unknown };
        if (typeof messageId === 'string') return { messageId };
        return { error: new Error(`The broker did not take the message: ${typeof error === 'string' ? error : JSON.stringify(response)}`) };
      });
    },
    async cancel(messageId) {
      await client.messages.cancel(messageId);
    },
    deliveryLog: (messageId) => readDeliveryLog(client, messageId),
    async upsertSchedule(request) {
      try {
        await client.schedules.create(scheduleOf(publicUrl, request));
      } catch (error) {
        if (error instanceof QstashError && error.status !== undefined && error.status >= 400 && error.status < 500) {
          throw new JobValidationError(`The broker refused the schedule: ${error.message}`, [{ path: ['cron'], message: error.message }]);
        }
        throw error;
      }
    },
    async hasSchedule(request) {
      const held = await client.schedules.get(request.scheduleId).catch((error: unknown) => {
        if (error instanceof QstashError && error.status === 404) return undefined;
        throw error;
      });
      if (!held || held.isPaused) return false;
      const wanted = scheduleOf(publicUrl, request);
      // `timeout` is not in the SDK's Schedule type; the embedded broker reports it in milliseconds. Absent or otherwise: write it again.
      const timeoutMs = (held as { timeout?: unknown }).timeout;
      return held.cron === wanted.cron && held.destination === wanted.destination && held.body === wanted.body && held.retries === wanted.retries && timeoutMs === wanted.timeout * 1000;
    },
    async pauseSchedule(scheduleId) {
      await client.schedules.pause({ schedule: scheduleId });
    },
    async resumeSchedule(scheduleId) {
      await client.schedules.resume({ schedule: scheduleId });
    },
    async deleteSchedule(scheduleId) {
      await client.schedules.delete(scheduleId);
    },
  };
}
