import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker } from '../../server/broker/startBroker.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { sleep, waitFor } from './support/waitFor.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('a failed start', () => {
  it('rejects and leaves nothing armed: a message pending in shared storage is delivered once, by the running broker', async () => {
    const path = '/start/once';
    const { messageId } = await h.client.publish({ url: h.destination.url(path), body: 'once', delay: 1 });
    // Same storage, same port: loading succeeds (arming the message), then listen fails.
    await expect(startBroker({ port: h.broker.port, storage: h.storage })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await waitFor(() => h.destination.received(path).length === 1, { what: 'the delivery' });
    // Longer than a delivery takes: a second, leaked dispatcher would have delivered by now.
    await sleep(1500);
    expect(h.destination.received(path).map((r) => r.headers['upstash-message-id'])).toEqual([messageId]);
    // The running broker still works: its storage was not closed by the failed start.
    await h.client.publish({ url: h.destination.url('/start/after'), body: 'after' });
    await waitFor(() => h.destination.received('/start/after').length === 1, { what: 'a delivery after the failed start' });
  });
});
