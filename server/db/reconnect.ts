/**
 * How both of jobwire's postgres.js pools, the app's (server/db/database.ts) and the embedded
 * broker's (server/broker/db/executor.ts), ride out a failover or a restart (reliability.md; README
 * "Guarantees"): reconnects back off to at most 2 s, a connection attempt gives up after 10 s, and
 * the server ends a session left idle inside a transaction for 15 s, so a client that vanished
 * mid-transaction (its connection cut, half-open) cannot hold row locks.
 *
 * postgres.js counts connection failures for the whole pool, and its default backoff,
 * `(0.5–1) × min(3^failures / 100, 20)` s, parks every connection of a pool for 10–20 s once ten
 * of them failed: a restart that fails all ten open connections did that, and the embedded broker
 * then delivered nothing for up to 18 s after the database was back.
 */
const RECONNECT_BACKOFF_S = (attempt: number) => Math.min(2, 0.05 * 2 ** attempt);
const CONNECT_TIMEOUT_S = 10;
const IDLE_IN_TRANSACTION_MS = 15_000;

/** The postgres.js options that carry the policy above, the session parameters naming the pool (`application_name`). */
export function reconnectOptions(applicationName: string) {
  return {
    backoff: RECONNECT_BACKOFF_S,
    connect_timeout: CONNECT_TIMEOUT_S,
    connection: { application_name: applicationName, idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS },
  };
}
