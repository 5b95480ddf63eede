/**
 * Counts what the app sends PostgreSQL, from postgres.js's per-statement hook (`onStatement`):
 * statements, the writing ones, and write transactions (a BEGIN…COMMIT with a write in it, or a
 * writing statement on its own, which is its own transaction).
 */
const WRITE = /^\s*(with\b[\s\S]*\b(insert|update|delete)\b|insert|update|delete)|pg_notify/i;

export interface StatementCounts {
  statements: number;
  writeStatements: number;
  writeTransactions: number;
}

/**
 * `only`: count only the statements (and transactions) this keeps, e.g. those naming the tables a
 * test is about, so a background writer of the same process (user directory, rate limiter) that
 * happens to run meanwhile is not charged to the operation measured. `texts()` lists what was seen.
 */
export function countStatements(only: (text: string) => boolean = () => true) {
  let counts: StatementCounts = { statements: 0, writeStatements: 0, writeTransactions: 0 };
  let seen: string[] = [];
  /** Per connection: inside a transaction, and whether it wrote yet. */
  const open = new Map<number, { wrote: boolean }>();
  return {
    onStatement(connection: number, query: string) {
      const text = query.trim().toLowerCase();
      seen.push(text.slice(0, 160));
      if (text.startsWith('begin')) {
        open.set(connection, { wrote: false });
        return;
      }
      if (text === 'commit' || text === 'rollback') {
        if (open.get(connection)?.wrote && text === 'commit') counts.writeTransactions++;
        open.delete(connection);
        return;
      }
      if (text.startsWith('savepoint') || text.startsWith('release savepoint') || text.startsWith('rollback to')) return;
      if (!only(text)) return;
      counts.statements++;
      if (!WRITE.test(text)) return;
      counts.writeStatements++;
      const tx = open.get(connection);
      if (tx) tx.wrote = true;
      else counts.writeTransactions++;
    },
    reset() {
      counts = { statements: 0, writeStatements: 0, writeTransactions: 0 };
      seen = [];
    },
    snapshot(): StatementCounts {
      return { ...counts };
    },
    /** The statements seen since the last reset (first 160 characters each), for a failure message. */
    texts(): string[] {
      return [...seen];
    },
  };
}
