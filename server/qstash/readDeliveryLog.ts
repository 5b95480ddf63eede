import type { Client, Log } from '@upstash/qstash';
import type { BrokerDelivery } from '../jobs/deps.ts';

/** Log entries per page, and pages read at most: one message logs ~3 entries per delivery. */
const PAGE_SIZE = 200;
const MAX_PAGES = 5;

/** What the logs API returns beyond the SDK's `Log` type for a delivery's outcome. */
type LogEntry = Log & { responseStatus?: number };

/**
 * A message's deliveries from QStash's logs (`client.logs`), oldest first: each ACTIVE entry opens
 * a delivery, the DELIVERED or ERROR after it closes it with the worker's status. A FAILED right
 * after an ERROR repeats that ERROR's response and is not another delivery.
 */
export async function readDeliveryLog(client: Client, messageId: string): Promise<BrokerDelivery[]> {
  const newestFirst: LogEntry[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    // `filter.messageId`, not the newer `messageIds`: only the filter form pages with a cursor.
    const response = await client.logs({ count: PAGE_SIZE, filter: { messageId }, ...(cursor ? { cursor } : {}) });
    newestFirst.push(...response.logs);
    cursor = response.cursor ? String(response.cursor) : undefined;
    if (!cursor || response.logs.length === 0) break;
  }
  return deliveriesOf(newestFirst.reverse());
}

function deliveriesOf(entries: readonly LogEntry[]): BrokerDelivery[] {
  const deliveries: BrokerDelivery[] = [];
  let startedAt: Date | null = null;
  let previous: LogEntry['state'] | undefined;
  for (const entry of entries) {
    if (entry.state === 'ACTIVE') {
      startedAt = new Date(entry.time);
    } else if (entry.state === 'DELIVERED' || entry.state === 'ERROR' || (entry.state === 'FAILED' && previous !== 'ERROR')) {
      deliveries.push({
        messageId: entry.messageId,
        startedAt,
        endedAt: new Date(entry.time),
        httpStatus: typeof entry.responseStatus === 'number' && entry.responseStatus > 0 ? entry.responseStatus : null,
        error: entry.error || null,
      });
      startedAt = null;
    }
    previous = entry.state;
  }
  return deliveries;
}
