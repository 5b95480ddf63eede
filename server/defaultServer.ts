/**
 * The started server that the seed-style module-level API (`jobDispatcher`, `send*EmailAsync`,
 * the job-execution queries, `createJobWorker(handler)`) acts on: the most recently started one
 * still running. Host apps call `startServer()` once; tests that start several get the newest.
 */
import { JobError } from './jobs/errors.ts';
import type { RunningServer } from './startServer.ts';

const running: RunningServer[] = [];

/** Called by `startServer` once the server is ready (unless it was started with `default: false`). */
export function registerDefaultServer(server: RunningServer): void {
  running.push(server);
}

/** Called by `stop()`: the server before it (if still running) becomes the default again. */
export function unregisterDefaultServer(server: RunningServer): void {
  const at = running.lastIndexOf(server);
  if (at >= 0) running.splice(at, 1);
}

/** The default server; throws a `JobError` (`SERVER_NOT_STARTED`) before `startServer()` has resolved. */
export function defaultServer(): RunningServer {
  const server = running.at(-1);
  if (!server) throw new JobError('jobwire is not started: await startServer() before using jobDispatcher or the job helpers', 'SERVER_NOT_STARTED');
  return server;
}
