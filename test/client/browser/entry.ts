// The page script of the browser test: the real client, bundled for the browser by esbuild.
// It counts EventSource constructions so the test can tell the browser's own one was used.
import { createJobsClient } from '../../../client/createJobsClient.ts';
import { waitForJob } from '../../../client/waitForJob.ts';
import { jobEvents, watchJob } from '../../../client/watchJob.ts';

type EventSourceConstructor = new (url: string | URL, init?: { withCredentials?: boolean }) => object;
const page = globalThis as unknown as { EventSource: EventSourceConstructor; jobwire: unknown }; // a browser window
const NativeEventSource = page.EventSource;
let eventSources = 0;
page.EventSource = class extends NativeEventSource {
  constructor(url: string | URL, init?: { withCredentials?: boolean }) {
    super(url, init);
    eventSources++;
  }
};

const api = { createJobsClient, waitForJob, watchJob, jobEvents, eventSources: () => eventSources };
/** What the page offers the test, as `globalThis.jobwire`. */
export type PageApi = typeof api;
page.jobwire = api;
